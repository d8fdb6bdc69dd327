"""What a watched resident says in the chat that welfare understands: 我很好 (a check-in), 我这周去女儿家住 /
我出门三天 (away until a date), 我住院了 (in hospital), 我回来了 / 出院了 (back home). Pure text, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from app.core.clock import SHANGHAI

CHECKIN = re.compile(r"^(?:(?:我|俺)(?:很好|挺好|蛮好|都好|一切都好|一切正常|平安|好着呢|没事儿?|还好)|我很好|我平安)"
                     r"(?:的|呢|啊|呀|哦|噢|嘞)?[，,。.!！~～]*(?:放心|请放心|别担心)?[。.!！~～]*$|^报平安[。.!！]*$")
BACK = re.compile(r"(?:我|已经|已)?(?:回来了|回家了|到家了|出院了|回来住了)")
HOSPITAL = re.compile(r"住院")
AWAY = re.compile(r"(?:去|到|回)[\u4e00-\u9fff]{0,8}(?:家|那边|那儿|那里)?(?:住|过|待|呆|玩)"
                  r"|出门|旅游|不在家|出远门|外出")
NEGATION = re.compile(r"不(?:去|住院|出门|旅游)|没(?:去|住院|出门)|取消")
NUMERALS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
            "半个月": 15}
DAYS = re.compile(r"(\d{1,2}|[一两二三四五六七八九十]|十[一二三四五六七八九]?)\s*(?:天|日)")
WEEKS = re.compile(r"(\d{1,2}|[一两二三四五六七八九十])\s*(?:个)?(?:星期|礼拜|周)")
DAY_OF_MONTH = re.compile(r"(?:到|至)\s*(?:(\d{1,2})月)?(\d{1,2})(?:号|日)")
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Said:
    """What a message says: checkin, back, away or hospital; for away and hospital, until when (naive UTC)."""

    kind: str
    until: datetime | None = None
    guessed: bool = False  # no date was said: the default length was taken


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (NUMERALS.get(text[1:], 0) if len(text) > 1 else 0)
    return NUMERALS.get(text, 0)


def until_from(text: str, local_today: date) -> tuple[date | None, bool]:
    """The last local day a message names (这周, 下周, 三天, 到15号, 明天); (None, True) when it names none."""
    if "下周" in text or "下个星期" in text or "下礼拜" in text:
        return local_today + timedelta(days=13 - local_today.weekday()), False
    if any(w in text for w in ("这周", "本周", "这个星期", "这礼拜", "这个礼拜")):
        return local_today + timedelta(days=6 - local_today.weekday()), False
    if "半个月" in text:
        return local_today + timedelta(days=14), False
    if m := DAY_OF_MONTH.search(text):
        month, day = int(m.group(1) or local_today.month), int(m.group(2))
        try:
            target = date(local_today.year, month, day)
        except ValueError:
            return None, True
        if target < local_today:
            target = _next_occurrence(local_today, month if m.group(1) else None, day)
        return target, False
    if m := WEEKS.search(text):
        return local_today + timedelta(days=7 * max(_number(m.group(1)), 1) - 1), False
    if m := DAYS.search(text):
        return local_today + timedelta(days=max(_number(m.group(1)), 1) - 1), False
    if "后天" in text:
        return local_today + timedelta(days=2), False
    if "明天" in text:
        return local_today + timedelta(days=1), False
    return None, True


def _next_occurrence(today: date, month: int | None, day: int) -> date:
    """The next date on or after today with that day (and month, when given)."""
    if month is not None:
        return date(today.year + 1, month, day)
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    try:
        return date(year, month, day)
    except ValueError:
        return today + timedelta(days=DEFAULT_DAYS)


def understand(text: str, now_local: datetime) -> Said | None:
    """What a watched resident's message says to welfare, or None."""
    text = (text or "").strip()
    if not text or len(text) > 60:
        return None
    if CHECKIN.match(text):
        return Said("checkin")
    if NEGATION.search(text):
        return None
    if BACK.search(text):
        return Said("back")
    kind = "hospital" if HOSPITAL.search(text) else "away" if AWAY.search(text) else None
    if kind is None:
        return None
    last_day, guessed = until_from(text, now_local.date())
    last_day = last_day or now_local.date() + timedelta(days=DEFAULT_DAYS - 1)
    return Said(kind, local_day_end(last_day), guessed)


def local_day_end(day: date) -> datetime:
    """The midnight after a local day, as naive UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC).replace(tzinfo=None)
