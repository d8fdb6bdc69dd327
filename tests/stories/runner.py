"""Runs conversation stories through the signed /wechat door on a throwaway demo community.

One Stage per process: an app on in-memory SQLite, the demo seeded once and kept as a SQLite snapshot
that every story starts from (a restore takes milliseconds; seeding takes seconds). Each turn is a
signed POST to /wechat, committed as the real door commits; jobs run in-process (embedded queue),
so what reaches the resident later is read from the fake WeChat's record.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from wechat_post import WeChatServer

from app.chat.models import Conversation
from app.community.demo import DEMO_COMMUNITY, steps
from app.community.models import Community, Resident, Staff
from app.core.clock import SHANGHAI, local_now
from app.core.db import db
from app.core.outbox import relay
from app.core.redis_conn import get_redis
from app.escalations import escalations as escalation_service
from app.escalations.models import Escalation
from app.parking.models import ParkingZone, Vehicle
from stories import checks
from stories.story import Story, parse_moment, personas


@dataclass
class Result:
    """How one story went: passed, or the first unmet expectation with the transcript so far."""

    story: Story
    passed: bool
    problem: str = ""
    turn: int | None = None  # 1-based index of the failing turn (None: an end effect failed)
    transcript: list[tuple[str, str]] = field(default_factory=list)  # (resident said, bot answered)

    def explain(self) -> str:
        """A few lines for a person: the story, what failed, and the conversation."""
        where = f"turn {self.turn}" if self.turn else "effects"
        lines = [f"{self.story.flow}/{self.story.name} ({self.story.resident}) — {where}: {self.problem}"]
        for said, answered in self.transcript:
            lines.append(f"    居民：{said}")
            lines.append(f"    助手：{answered.replace(chr(10), ' ⏎ ')}")
        return "\n".join(lines)


class Stage:
    """The demo community on in-memory SQLite, restored from a snapshot before every story."""

    def __init__(self, app: Flask, fake) -> None:
        self.app, self.fake = app, fake
        self.people = personas()
        with app.app_context():
            db.create_all()
            seed(db.session)
            self.seeded = local_now().replace(tzinfo=None)  # stories start relative to the day the demo was made
            self.template = sqlite3.connect(":memory:", check_same_thread=False)
            self._raw().backup(self.template)
            db.session.remove()

    def _raw(self) -> sqlite3.Connection:
        connection = db.engine.raw_connection()  # StaticPool: the one connection every session uses
        try:
            return connection.driver_connection
        finally:
            connection.close()

    def reset(self) -> None:
        """Every table back to the freshly seeded demo; Redis and the fake's record emptied."""
        db.session.remove()
        self.template.backup(self._raw())
        get_redis(self.app).flushdb()
        self.fake.reset()


# seed steps no conversation touches and that take seconds (a day of device readings, a second community
# for the street cockpit): left out of the stories' world to keep `make test` fast
NOT_FOR_CHAT = frozenset({"app.devices.simulate.seed_demo_day", "app.cockpit.demo.seed_cockpit"})


def seed(session) -> None:
    """The demo community, as `flask seed-demo` builds it, committed step by step: a step that rolls its
    session back (a feature's seed being written) cannot take the residents with it."""
    community = Community(name=DEMO_COMMUNITY, kind="old_neighbourhood", city="杭州")
    session.add(community)
    session.commit()
    for step in steps():
        if f"{step.__module__}.{step.__qualname__}" in NOT_FOR_CHAT:
            continue
        step(session, community)
        session.commit()
    missing = [p["openid"] for p in personas().values() if p["openid"].startswith("o_demo_")
               and session.scalar(select(Resident.id).where(Resident.oa_openid == p["openid"])) is None]
    if missing:
        raise RuntimeError(f"the demo seed lost the story residents {missing[:5]}")


class Run:
    """One story being played: the resident, the door, the clock."""

    def __init__(self, stage: Stage, story: Story, clock) -> None:
        self.stage, self.story, self.clock = stage, story, clock
        self.persona = stage.people[story.resident]
        self.openid = self.persona["openid"]
        self.wx = WeChatServer(stage.app.test_client(), stage.app.config["WECHAT_TOKEN"])
        self.transcript: list[tuple[str, str]] = []

    def move(self, text: str, base: datetime | None = None) -> None:
        moment = parse_moment(text, base or local_now().replace(tzinfo=None))
        self.clock.move_to(moment.replace(tzinfo=SHANGHAI).astimezone(UTC))

    def sent_to_resident(self, since: int) -> list[dict]:
        return [m for m in self.stage.fake.sent_messages()[since:] if m.get("touser") == self.openid]

    def say(self, text: str) -> str | None:
        """Post one message; the reply shown at once (None: the door answers later, by message)."""
        reply = self.wx.say(self.openid, text)
        relay(self.stage.app)
        return reply

    def later(self, since: int) -> str:
        """What was pushed to the resident since the fake had recorded `since` sends."""
        return "\n".join(_text_of(m) for m in self.sent_to_resident(since))

    def staff(self, action: str) -> None:
        """Staff act on the conversation's open escalation: claim, reply:<text>, resolve."""
        session = db.session
        conversation = _conversation(session, self.openid)
        row = session.scalar(select(Escalation).where(Escalation.conversation_id == conversation.id)
                             .where(Escalation.resolved_at.is_(None)).order_by(Escalation.id.desc()))
        if row is None:
            raise StoryError(f"staff {action}: no open escalation")
        person = session.scalar(select(Staff).where(Staff.username == "kefu"))
        if row.assignee_id is None:
            escalation_service.claim(session, row.id, person)
        if action.startswith("reply:"):
            escalation_service.reply(session, row.id, person, action[6:])
        elif action == "resolve":
            escalation_service.resolve(session, row.id, person)
        elif action != "claim":
            raise StoryError(f"unknown staff action {action}")
        session.commit()
        relay(self.stage.app)

    def jobs(self, names: Iterable[str]) -> None:
        for name in names:
            module, _, func = name.rpartition(".")
            getattr(importlib.import_module(module), func)()
        relay(self.stage.app)


class StoryError(Exception):
    """The story asks for something the world cannot do (a data mistake, not a bot failure)."""


def _text_of(message: dict) -> str:
    text = (message.get("text") or {}).get("content")
    return text if text else json.dumps(message.get("data") or message, ensure_ascii=False)


def _conversation(session, openid: str) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.openid == openid))


def prepare_world(story: Story) -> None:
    """Parking counts fresh (as the camera feed keeps them) unless the story wants them stale; lots filled."""
    now = datetime.now(UTC).replace(tzinfo=None)
    stale = story.world.get("parking") == "stale"
    for zone in db.session.scalars(select(ParkingZone)):
        zone.last_event_at = zone.updated_at = now - (timedelta(hours=3) if stale else timedelta(minutes=1))
        if zone.name in {f"{b}幢" for b in story.world.get("parking_full", [])} | set(story.world.get("lots_full", [])):
            zone.temporary_occupied = zone.temporary_capacity
            zone.fixed_occupied = zone.fixed_capacity
    db.session.commit()


def facts(resident: Resident | None) -> dict[str, str]:
    """The placeholders a story's expectations may use."""
    if resident is None or resident.household is None:
        return {"name": "", "building": "", "unit": "", "room": "", "address": "", "plate": ""}
    household = resident.household
    plate = db.session.scalar(select(Vehicle.plate).where(Vehicle.household_id == household.id).order_by(Vehicle.id))
    return {"name": resident.name, "building": household.unit.building.number, "unit": household.unit.number,
            "room": household.room, "address": household.label, "plate": plate or ""}


def run_story(stage: Stage, story: Story, clock) -> Result:
    """Play one story from a fresh demo; never raises for a bot failure (the Result says what went wrong)."""
    stage.reset()
    run = Run(stage, story, clock)
    run.move(story.at, stage.seeded)
    prepare_world(story)
    session = db.session
    resident = session.scalar(select(Resident).where(Resident.oa_openid == run.openid))
    fields = facts(resident)
    ctx_base = checks.baseline(session)
    start = local_now().date()
    sent_before = len(stage.fake.sent_messages())
    for index, turn in enumerate(story.turns, start=1):
        mark = len(stage.fake.sent_messages())
        try:
            if turn.clock:
                run.move(turn.clock)
            if turn.staff:
                run.staff(turn.staff)
            if turn.jobs:
                run.jobs(turn.jobs)
            if turn.say is None:
                continue
            reply = run.say(turn.say)
            later = run.later(mark)
            reply = reply if reply is not None else later
        except StoryError as exc:
            return Result(story, False, f"story data: {exc}", index, run.transcript)
        except Exception as exc:  # a 500 or a crash is a failure of the bot, said plainly
            return Result(story, False, f"error: {type(exc).__name__}: {exc}"[:300], index, run.transcript)
        run.transcript.append((turn.say, reply + (f" ［稍后：{later}］" if later and later != reply else "")))
        problem = checks.reply_problem(reply, turn, fields, later)
        if problem:
            return Result(story, False, problem, index, run.transcript)
    session.expire_all()
    ctx = checks.Context(session=session, resident=resident, conversation=_conversation(session, run.openid),
                         baseline=ctx_base, start=start, sent=stage.fake.sent_messages()[sent_before:],
                         fields=fields)
    for effect in story.effects:
        problem = checks.effect_problem(ctx, effect)
        if problem:
            return Result(story, False, problem, None, run.transcript)
    return Result(story, True, transcript=run.transcript)


def run_all(stage: Stage, stories: list[Story], clock) -> list[Result]:
    """Every story, each from a fresh demo, inside the stage's app context."""
    return [run_story(stage, story, clock) for story in stories]


def table(results: list[Result]) -> list[tuple[str, int, int, float]]:
    """(flow, stories, passed, %) per flow, then the total as flow "all"."""
    flows: dict[str, list[Result]] = {}
    for result in results:
        flows.setdefault(result.story.flow, []).append(result)
    rows = [(name, len(rs), sum(r.passed for r in rs), 100.0 * sum(r.passed for r in rs) / len(rs))
            for name, rs in sorted(flows.items())]
    total = len(results)
    passed = sum(r.passed for r in results)
    rows.append(("all", total, passed, 100.0 * passed / total if total else 0.0))
    return rows


def format_table(results: list[Result]) -> str:
    """The per-flow table as text."""
    lines = [f"{'flow':<22}{'stories':>8}{'passed':>8}{'%':>8}"]
    for name, total, passed, rate in table(results):
        if name == "all":
            lines.append("-" * 46)
        lines.append(f"{name:<22}{total:>8}{passed:>8}{rate:>8.1f}")
    return "\n".join(lines)
