"""Moving a clinic booking in chat: 改到下午行不行 / 能改到周四吗 / 把明天的体检改到下周.

Which booking (the one named by service or day, else the one just made, else asked by number or words),
the new day and part of the day (the words after 改到; said without a day, the booking's own day), the
free slots of the same service nearest it, a yes/no where only yes words count (a bare 1 is no yes), then
bookings.reschedule, the service the mini-program uses. Also what the cancel flow shares: picking by
number, choosing among bookings by words, the yes and no words of a question about a booking.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.chat.conversations import to_naive_utc
from app.chat.dialog.core import NO_WORDS, YES_WORDS, Flow, Turn, end, register, save
from app.chat.models import Conversation
from app.clinic import bookings
from app.clinic.clinic import service_from_text
from app.clinic.models import Booking, Slot
from app.clinic.slots import PERIOD_CENTRES, PERIOD_RANGES, WEEKDAYS, local_to_utc, open_slots, slot_label
from app.community.models import Resident
from app.core.clock import to_local
from app.core.errors import AppError
from nlp import parse
from nlp.numerals import to_int

NOT_BOUND = "预约社区诊所需要先绑定房号：发送“绑定”，按提示完成后再告诉我想约什么。"
MOVE_CHOICES = 3
RESCHEDULE_FLOW = "booking_reschedule"
JUST_MADE = timedelta(minutes=30)  # a booking made this recently is the one "改到下午" speaks of
# a yes to a question about a booking: the dialog's yes words without the digits (1 picks, it never agrees)
SURE_WORDS = frozenset(w for w in YES_WORDS if not w.isdigit()) | {"确认取消", "确定取消", "确认改期", "确定改期"}
KEEP_WORDS = NO_WORDS | {"不改了", "不用改了", "不取消", "不取消了", "不用取消", "保留", "先不改", "先不取消"}
_MARKS = re.compile(r"(?:改期到|改约到|改到|改成|改在|换到|换成|挪到|调到|推到|推迟到|延后到|提前到)")
_WORDS = ("改期", "改约", "改时间", "改个时间", "改一下时间", "换个时间", "换时间", "调时间", "调整时间", "换一天")
_NUMBER = re.compile(r"^(?:第)?\s*([1-9一二两三四五六七八九])\s*(?:个|号|项)?$")
_NEXT_WEEK = ("下周", "下星期", "下个星期", "下礼拜", "下个礼拜")
_THIS_WEEK = ("这周", "本周", "这星期", "这个星期", "这礼拜")
PERIOD_LABELS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}


def pick_number(text: str, count: int) -> int | None:
    """The index (0-based) a resident picked: 2 / 第2个 / 二 / 第二个."""
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    index = (to_int(match.group(1)) or 0) - 1
    return index if 0 <= index < count else None


def yes_or_no(text: str) -> bool | None:
    """True for a yes word, False for a no word, None for anything else (a bare 1 included)."""
    if text in SURE_WORDS:
        return True
    return False if text in KEEP_WORDS else None


def _now(turn: Turn) -> datetime:
    return to_naive_utc(turn.now)


def movable(turn: Turn) -> list[Booking]:
    """The resident's bookings that may still be cancelled or moved, soonest first."""
    return [b for b in bookings.active_bookings(turn.session, turn.resident, now=_now(turn))
            if b.status == "booked" and b.starts_at > _now(turn)]


def narrow(rows: list[Booking], text: str, now: datetime, parsed=None) -> list[Booking]:
    """The bookings among rows that the words name (体检 / 明天的 / 周四那个); empty when they name none."""
    slots = dict(getattr(parsed if parsed is not None else parse(text, now=now), "slots", None) or {})
    code = slots.get("service") or service_from_text(text)
    if code is None and not slots.get("date"):
        return []
    named = [b for b in rows if code is None or b.service.code == code]
    if slots.get("date"):
        named = [b for b in named if to_local(b.starts_at).date().isoformat() == slots["date"]]
    return named


def choose_booking(turn: Turn, ids: list[int]) -> int | None:
    """The booking id a resident picked from a numbered list, by number or by its day or service."""
    index = pick_number(turn.text, len(ids))
    if index is not None:
        return ids[index]
    rows = [b for b in (turn.session.get(Booking, i) for i in ids) if b is not None]
    named = narrow(rows, turn.text, turn.now, turn.parsed)
    return named[0].id if len(named) == 1 else None


def booking_list(turn: Turn, ids: list[int], question: str) -> str:
    """The numbered bookings and how to answer."""
    rows = [b for b in (turn.session.get(Booking, i) for i in ids) if b is not None]
    lines = [f"您有这些预约，{question}"]
    lines += [f"{i}. {b.service.name}，{slot_label(b.slot, _now(turn))}（预约号{b.number}）"
              for i, b in enumerate(rows, 1)]
    lines.append("请回复序号，例如“1”，或说日期和项目，例如“明天的体检”；回复“取消”结束。")
    return "\n".join(lines)


# ---- what the resident asked --------------------------------------------------------------------

def asks_reschedule(text: str, now: datetime) -> tuple[str, str] | None:
    """(the words about the booking, the words about the new time) when the text asks to move a booking."""
    match = _MARKS.search(text)
    if match is not None:
        old, new = text[:match.start()], text[match.end():]
        if when_from(new, now) or service_from_text(old) or "预约" in text:
            return old, new
    if any(word in text for word in _WORDS):
        return text, ""
    return None


def when_from(text: str, now: datetime) -> dict:
    """The new time said: {"from", "to" (ISO days), "period", "time"}; empty when none is said."""
    slots = dict(getattr(parse(text, now=now), "slots", None) or {}) if text else {}
    wanted = {key: slots[key] for key in ("period", "time") if slots.get(key)}
    today = to_local(now).date()
    if slots.get("date"):
        wanted["from"] = wanted["to"] = slots["date"]
    elif any(word in text for word in _NEXT_WEEK):
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        wanted["from"], wanted["to"] = monday.isoformat(), (monday + timedelta(days=6)).isoformat()
    elif any(word in text for word in _THIS_WEEK):
        wanted["from"], wanted["to"] = today.isoformat(), (today + timedelta(days=6 - today.weekday())).isoformat()
    return wanted


def _day_label(day: date, now: datetime) -> str:
    today = to_local(now).date()
    names = {today: "今天", today + timedelta(days=1): "明天", today + timedelta(days=2): "后天"}
    return names.get(day, f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）")


def _when_label(wanted: dict, booking: Booking, now: datetime) -> str:
    first, last = _window(wanted, booking)
    if first == last:
        day = _day_label(first, now)
    else:
        day = "下周" if first.weekday() == 0 and first > to_local(now).date() else "这周"
    return day + (PERIOD_LABELS.get(wanted.get("period") or "", "")) + (wanted.get("time") or "")


def _window(wanted: dict, booking: Booking) -> tuple[date, date]:
    own = to_local(booking.starts_at).date()
    first = date.fromisoformat(wanted["from"]) if wanted.get("from") else own
    last = date.fromisoformat(wanted["to"]) if wanted.get("to") else first
    return first, last


def _target(wanted: dict, booking: Booking) -> datetime:
    """The moment to offer slots around: the time said, else the middle of the period, else the old time."""
    first, _ = _window(wanted, booking)
    at = to_local(booking.starts_at).time()
    if wanted.get("period") in PERIOD_CENTRES:
        at = PERIOD_CENTRES[wanted["period"]]
    if wanted.get("time"):
        hour, minute = wanted["time"].split(":")
        at = time(int(hour), int(minute))
    return local_to_utc(first, at)


def _inside(slot: Slot, wanted: dict, booking: Booking) -> bool:
    first, last = _window(wanted, booking)
    local = to_local(slot.starts_at)
    if not first <= local.date() <= last:
        return False
    low, high = PERIOD_RANGES.get(wanted.get("period") or "", (time(0, 0), time(23, 59, 59)))
    return low <= local.time() < high


# ---- the flow ------------------------------------------------------------------------------------

def start(turn: Turn, asked: tuple[str, str]) -> str:
    """Begin moving a booking: choose it, then offer the new times (or ask when)."""
    if turn.resident is None:
        return NOT_BOUND
    mine = movable(turn)
    if not mine:
        return "您目前没有可以改期的预约。想约的话直接说，例如“明天上午想测个血压”。"
    old, new = asked
    named = narrow(mine, old, turn.now) if old else []
    if not named:
        just = [b for b in mine if b.created_at is not None and b.created_at >= _now(turn) - JUST_MADE]
        named = just if len(just) == 1 else mine
    end(turn.conversation)
    turn.slots = {"choices": [b.id for b in named], "wanted": when_from(new, turn.now)}
    if len(named) > 1:
        turn.goto("which")
        save(_MOVE, turn)
        return booking_list(turn, turn.slots["choices"], "要改哪一个？")
    turn.slots["booking_id"] = named[0].id
    return _after_choosing(turn)


def _after_choosing(turn: Turn) -> str:
    if turn.slots.get("wanted"):
        return offer(turn)
    turn.goto("when")
    save(_MOVE, turn)
    return _when_prompt(turn)


def _when_prompt(turn: Turn) -> str:
    booking = turn.session.get(Booking, turn.slots["booking_id"])
    return (f"您的{booking.service.name}现在约在{slot_label(booking.slot, _now(turn))}。想改到什么时候？"
            "例如“周四下午”或“后天上午”；回复“取消”保留原预约。")


def offer(turn: Turn) -> str:
    """The free slots of the same service nearest the new time (or, when that time is full, the nearest
    other ones), by number; with none at all the booking stays as it is."""
    booking = turn.session.get(Booking, turn.slots["booking_id"])
    wanted, now = turn.slots.get("wanted") or {}, _now(turn)
    others = [b for b in movable(turn) if b.id != booking.id]
    every = [s for s in open_slots(turn.session, turn.resident, booking.service, now, free_only=False)
             if s.id != booking.slot_id]
    free = {s.id for s in open_slots(turn.session, turn.resident, booking.service, now)}
    free_slots = [s for s in every if s.id in free
                  and not any(b.starts_at < s.ends_at and s.starts_at < b.ends_at for b in others)]
    target = _target(wanted, booking)
    inside = [s for s in free_slots if _inside(s, wanted, booking)]
    pool = inside or free_slots
    choices = sorted(sorted(pool, key=lambda s: (abs((s.starts_at - target).total_seconds()), s.id))[:MOVE_CHOICES],
                     key=lambda s: (s.starts_at, s.id))
    when, name = _when_label(wanted, booking, turn.now), booking.service.name
    if inside:
        head = f"{name}{when}还有这些空位："
    else:
        scheduled = any(_inside(s, wanted, booking) for s in every)
        head = (f"抱歉，{when}的{name}已经约满了。" if scheduled else f"抱歉，{when}没有安排{name}。")
        if not choices:
            end(turn.conversation)
            return (f"{head}近期也没有别的空位，您原来的预约（{slot_label(booking.slot, now)}）保持不变。"
                    "可以过几天再问我。")
        head += "离您要的时间最近的空位有："
    turn.slots["choices_slots"] = [s.id for s in choices]
    turn.goto("pick")
    save(_MOVE, turn)
    return _choices_text(turn, head)


def _choices_text(turn: Turn, head: str) -> str:
    choices = [s for s in (turn.session.get(Slot, i) for i in turn.slots.get("choices_slots") or []) if s]
    lines = [head] + [f"{i}. {slot_label(s, _now(turn))}" for i, s in enumerate(choices, 1)]
    lines.append("请回复序号选择，例如“1”；也可以换个时间，例如“周五上午”；回复“取消”保留原预约。")
    return "\n".join(lines)


def _which(turn: Turn) -> str | None:
    chosen = choose_booking(turn, turn.slots.get("choices") or [])
    if chosen is None:
        return None
    turn.slots["booking_id"] = chosen
    return _after_choosing(turn)


def _when(turn: Turn) -> str | None:
    wanted = when_from(turn.text, turn.now)
    if not wanted:
        return None
    turn.slots["wanted"] = wanted
    return offer(turn)


def _pick(turn: Turn) -> str | None:
    ids = turn.slots.get("choices_slots") or []
    index = pick_number(turn.text, len(ids))
    if index is None:
        return _when(turn)  # 那周五呢 / 有下午的吗: offer again around the new time
    turn.slots["slot_id"] = ids[index]
    turn.goto("sure")
    save(_MOVE, turn)
    return _confirm(turn)


def _confirm(turn: Turn) -> str:
    booking = turn.session.get(Booking, turn.slots["booking_id"])
    slot = turn.session.get(Slot, turn.slots["slot_id"])
    return (f"请确认改期：{booking.service.name}\n原来：{slot_label(booking.slot, _now(turn))}\n"
            f"改到：{slot_label(slot, _now(turn))}\n确认请回复“确认”；不改了请回复“取消”，原预约保持不变。")


def _sure(turn: Turn) -> str | None:
    answer = yes_or_no(turn.text)
    if answer is None:
        return None
    booking = turn.session.get(Booking, turn.slots["booking_id"])
    if not answer:
        end(turn.conversation)
        return f"好的，不改了。您的{booking.service.name}还是{slot_label(booking.slot, _now(turn))}。"
    try:
        new = bookings.reschedule(turn.session, booking, turn.slots["slot_id"], now=_now(turn), source=turn.channel)
    except bookings.SlotFull:
        return "抱歉，这个时段刚刚被约满了。" + offer(turn)
    except AppError as err:
        end(turn.conversation)
        return f"{err.message}。您原来的预约保持不变。"
    end(turn.conversation)
    return (f"已改好！新的预约号{new.number}：{new.service.name}，{slot_label(new.slot, _now(turn))}。"
            f"原来的预约{booking.number}已取消。我们会在前一天和开始前1小时提醒您。")


def _sure_prompt(turn: Turn) -> str:
    return "请回复“确认”改到新的时间，或回复“取消”保留原预约。\n\n" + _confirm(turn)


def _not_used(turn: Turn) -> str:  # the flow starts from start(), never from an intent
    return ""


_MOVE = register(Flow(
    name=RESCHEDULE_FLOW, intents=(), slots=(), label="改约", begin=lambda turn: {}, confirm=_not_used,
    complete=_not_used,
    steps={"which": _which, "when": _when, "pick": _pick, "sure": _sure},
    step_prompts={"which": lambda turn: booking_list(turn, turn.slots.get("choices") or [], "要改哪一个？"),
                  "when": _when_prompt, "pick": lambda turn: _choices_text(turn, "可以改到这些时段："),
                  "sure": _sure_prompt},
))


def reschedule_fallback(session: Session, conversation: Conversation, resident: Resident | None, text: str,
                        now: datetime, weak: bool) -> str | None:
    """改到下午行不行 when no flow took it (the parser reads it as out of scope): start moving a booking."""
    asked = asks_reschedule(text, now)
    if asked is None:
        return None
    return start(Turn(session, conversation, resident, text, None, now), asked)


# registered with the flow, at import (the clinic's init_app imports chat, which imports this module);
# before wish words (10), the FAQ (15) and a miss counting towards a person (20)
