"""Stories as data: loading the YAML files, and the relative times they speak in ("tomorrow 09:00", "+2h")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from app.core.clock import local_now

HERE = Path(__file__).resolve().parent
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
REPLY_KEYS = {"has", "has_any", "lacks", "later_has", "later_lacks"}
TURN_KEYS = {"say", "clock", "staff", "jobs", "note"} | REPLY_KEYS
STORY_KEYS = {"name", "resident", "at", "world", "turns", "effects", "covers", "note"}
DEFAULT_START = "workday 10:00"  # staff at work, the clinic open: stories about off hours say so


@dataclass
class Turn:
    """One step: the resident says something (or the clock moves, or staff act), and what the reply must hold."""

    say: str | None = None
    clock: str | None = None
    staff: str | None = None  # reply:<text> | resolve | claim
    jobs: list[str] = field(default_factory=list)  # dotted names of jobs to run after the clock move
    has: list[Any] = field(default_factory=list)  # every item must appear; an item that is a list: any of it
    has_any: list[str] = field(default_factory=list)
    lacks: list[str] = field(default_factory=list)
    later_has: list[Any] = field(default_factory=list)  # what reaches the resident afterwards (custom messages)
    later_lacks: list[str] = field(default_factory=list)


@dataclass
class Story:
    """A resident, what they say turn by turn, and what must have happened by the end."""

    name: str
    flow: str
    resident: str
    turns: list[Turn]
    effects: list[dict] = field(default_factory=list)
    at: str = DEFAULT_START
    world: dict = field(default_factory=dict)
    covers: list[str] = field(default_factory=list)
    source: str = ""


def personas(folder: Path = HERE) -> dict[str, dict]:
    """The residents stories may speak as (residents.yaml): key -> openid and what they are like."""
    return yaml.safe_load((folder / "residents.yaml").read_text(encoding="utf-8"))["residents"]


def load(folder: Path = HERE, flow: str | None = None) -> list[Story]:
    """Every story in folder's flow files (flows/*.yaml), optionally of one flow; malformed data raises."""
    stories: list[Story] = []
    known = personas(folder)
    for path in sorted((folder / "flows").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        name = data["flow"]
        if flow is not None and name != flow:
            continue
        for raw in data["stories"]:
            stories.append(_story(raw, name, path.name, known))
    names = [s.name for s in stories]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"story names used twice: {sorted(duplicates)}")
    return stories


def _story(raw: dict, flow: str, source: str, known: dict) -> Story:
    unknown = set(raw) - STORY_KEYS
    if unknown:
        raise ValueError(f"{source}: {raw.get('name')}: unknown keys {sorted(unknown)}")
    if raw["resident"] not in known:
        raise ValueError(f"{source}: {raw['name']}: resident {raw['resident']!r} is not in residents.yaml")
    turns = []
    for item in raw["turns"]:
        if isinstance(item, str):
            item = {"say": item}
        bad = set(item) - TURN_KEYS
        if bad:
            raise ValueError(f"{source}: {raw['name']}: unknown turn keys {sorted(bad)}")
        item = dict(item)
        item.pop("note", None)
        for key in ("has", "has_any", "lacks", "later_has", "later_lacks", "jobs"):
            if isinstance(item.get(key), str):
                item[key] = [item[key]]
        if isinstance(item.get("say"), bool):  # YAML reads a bare yes/no/on/off as a boolean, not the word
            raise ValueError(f"{raw.get('name')}: quote the resident's words ({item['say']!r}), e.g. say: \"yes\"")
        if item.get("say") is not None:
            item["say"] = str(item["say"])
        turns.append(Turn(**item))
    if raw.get("at"):
        parse_moment(raw["at"], local_now())  # fails early on a typo
    return Story(name=raw["name"], flow=flow, resident=raw["resident"], turns=turns,
                 effects=list(raw.get("effects") or []), at=raw.get("at") or DEFAULT_START,
                 world=dict(raw.get("world") or {}), covers=[str(c) for c in raw.get("covers") or []],
                 source=source)


_SHIFT = re.compile(r"^\+(\d+)\s*([mhd])$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_moment(text: str, now: datetime) -> datetime:
    """A local wall-clock time said relatively: "+2h", "+30m", "+1d", "tomorrow 09:00", "workday 10:00",
    "friday 15:00" (the coming one, never today), "next_week tuesday 09:00", "saturday 22:00"."""
    text = text.strip().lower()
    shift = _SHIFT.match(text)
    if shift:
        n, unit = int(shift.group(1)), shift.group(2)
        return now + {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]
    *words, clock = text.split()
    hm = _CLOCK.match(clock)
    if not hm:
        raise ValueError(f"not a moment: {text!r}")
    day = parse_day(" ".join(words) or "today", now.date())
    return datetime.combine(day, time(int(hm.group(1)), int(hm.group(2))))


def parse_day(text: str, today: date) -> date:
    """A day said relatively: today, tomorrow, day_after, workday (the next Monday-Friday after today),
    a weekday name (the coming one, never today), next_week <weekday> (that day of next calendar week),
    +N (days)."""
    text = text.strip().lower()
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "day_after":
        return today + timedelta(days=2)
    if text.startswith("+") and text[1:].isdigit():
        return today + timedelta(days=int(text[1:]))
    if text == "workday":
        day = today + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day
    if text.startswith("next_week "):
        weekday = WEEKDAYS[text.split()[1]]
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)
    if text in WEEKDAYS:
        ahead = (WEEKDAYS[text] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    raise ValueError(f"not a day: {text!r}")
