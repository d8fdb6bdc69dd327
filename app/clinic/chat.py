"""Clinic bookings in chat: 明天上午想测个血压 -> the free slots nearest that time, pick by number, confirm;
取消我明天的心电图预约 (several: pick by number or words; only yes words confirm); 我约的体检是几点.
Moving a booking (改到下午行不行) is chat_reschedule. Flows on the dialog framework (app/chat/dialog)."""

from __future__ import annotations

from datetime import date, timedelta

from app.chat.conversations import to_naive_utc
from app.chat.dialog.clarify import register_clarifier
from app.chat.dialog.core import Flow, Turn, end, proceed, register, register_answer, save
from app.chat.dialog.core import Slot as FormSlot
from app.clinic import bookings
from app.clinic.chat_reschedule import (
    NOT_BOUND,
    RESCHEDULE_FLOW,
    SURE_WORDS,
    asks_reschedule,
    booking_list,
    choose_booking,
    movable,
    pick_number,
    start,
    when_from,
    yes_or_no,
)
from app.clinic.clinic import SERVICE_LABELS, colour_of, service_from_text
from app.clinic.models import Booking, Slot
from app.clinic.slots import (
    WEEKDAYS,
    nearest,
    open_slots,
    seats_for,
    service_by_code,
    slot_label,
    slot_with_details,
    wanted_from,
)
from app.core.clock import to_local
from app.core.errors import AppError
from app.core.outbox import enqueue
from app.core.words import EMERGENCY, SAFETY_WORDS, is_medical

ASK_SERVICE = ("请问想预约什么项目？例如：测血压、测血糖、心电图、体检、CT、胃镜、中医、打疫苗、"
               "家庭医生上门、视频问诊。")
CHOICES = 5
WAITLIST_WORDS = frozenset({"排队", "候补", "登记候补", "等空位", "排个队"})


def _guard_bound(turn: Turn) -> str | None:
    """Unbound users are told to bind; 体检改到后天上午 (read as a booking) moves the booking instead."""
    if turn.resident is None:
        return NOT_BOUND
    asked = asks_reschedule(turn.text, turn.now)
    if asked is not None and movable(turn):
        return start(turn, asked)
    return None


def _now(turn: Turn):
    return to_naive_utc(turn.now)


# ---- a person in danger ------------------------------------------------------------------------

EMERGENCY_JOB = "app.clinic.jobs.alert_emergency"
NOT_A_BODY = ("火", "烟", "燃气", "煤气", "天然气", "爆炸", "漏水", "电梯")
MEDICAL_SAFETY_WORDS = frozenset(word for word, danger in SAFETY_WORDS.items() if danger == "fainted")


def alert_family_doctor(session, conversation, resident, word: str, text: str, parsed, now, env) -> None:
    """The chat core's safety reaction: a cry for help about a person's body (晕倒, 摔倒起不来, 胸口疼) also
    reaches the household's family-doctor team, after the commit; fires and faults do not."""
    if resident is None or resident.household_id is None:
        return
    unnamed = word == EMERGENCY and not any(w in text for w in NOT_A_BODY)  # 救命 快来人: may well be one
    if unnamed or is_medical(text) or word in MEDICAL_SAFETY_WORDS:
        enqueue(session, EMERGENCY_JOB, resident.id, text[:200], queue="high")


# ---- booking_create ----------------------------------------------------------------------------

PERIOD_WORDS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}


def clarify_booking(parsed, text: str, resident, now) -> str | None:
    """下周二体检 read without confidence: ask "您是想预约12月8日（周二）的体检吗？" when a service and a date
    were found and the words are not about moving a booking (把明天的体检改到下周)."""
    slots = dict(getattr(parsed, "slots", None) or {})
    service, day = slots.get("service"), slots.get("date")
    if not service or not day or service not in SERVICE_LABELS or asks_reschedule(text, now) is not None:
        return None
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        return None
    period = PERIOD_WORDS.get(slots.get("period") or "", "")
    return (f"您是想预约{wanted.month}月{wanted.day}日（周{WEEKDAYS[wanted.weekday()]}）{period}的"
            f"{SERVICE_LABELS[service]}吗？")


register_clarifier("booking_create", clarify_booking)

def _begin(turn: Turn) -> dict:
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    return {"service": slots.get("service") or service_from_text(turn.text),
            "date": slots.get("date"), "period": slots.get("period"), "time": slots.get("time")}


def _extract_service(turn: Turn) -> str | None:
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    for key in ("date", "period", "time"):
        if slots.get(key) and not turn.slots.get(key):
            turn.slots[key] = slots[key]
    return slots.get("service") or service_from_text(turn.text)


def _service(turn: Turn):
    return service_by_code(turn.session, turn.resident.community_id, turn.slots["service"])


def _review(turn: Turn) -> str | None:
    """Offer the free slots nearest the asked time, or the waitlist when all are full."""
    service = _service(turn)
    label = SERVICE_LABELS.get(turn.slots["service"], "这个项目")
    if service is None:
        turn.goto("none")
        return f"社区诊所暂时没有开放{label}的预约。可以换一个项目，或回复“取消”结束。"
    free = open_slots(turn.session, turn.resident, service, _now(turn))
    wanted = wanted_from(turn.slots)
    if not free:
        taken = nearest(open_slots(turn.session, turn.resident, service, _now(turn), free_only=False), wanted,
                        _now(turn), limit=1)
        if not taken:
            turn.goto("none")
            if service.code == "home_visit":
                return ("家庭医生上门需要先和家庭医生团队签约，近期也没有可约的上门时段。"
                        "可以回复“转人工”联系社区卫生站，或回复“取消”结束。")
            return f"近{service.horizon_days}天内没有可以预约的{label}时段。回复“取消”结束，过几天再来看看。"
        turn.slots["waitlist_slot"] = taken[0].id
        turn.goto("waitlist")
        return (f"{label}近期都约满了。最接近您要的时间是{slot_label(taken[0], _now(turn))}。\n"
                "回复“候补”登记候补，有人取消时会第一时间通知您；回复“取消”结束。")
    choices = nearest(free, wanted, _now(turn), limit=CHOICES)
    turn.slots["choices"] = [s.id for s in choices]
    turn.goto("pick")
    return _choices_text(turn, choices, label, wanted.day, service.horizon_days)


def _choices_text(turn: Turn, choices: list[Slot], label: str, day: date | None, horizon_days: int | None = None,
                  ) -> str:
    exact = day is None or any(to_local(s.starts_at).date() == day for s in choices)
    if exact:
        head = f"{label}可以预约这些时段："
    elif horizon_days is not None and day > to_local(_now(turn)).date() + timedelta(days=horizon_days):
        head = (f"{day.month}月{day.day}日的{label}还不能预约（只开放未来{horizon_days}天的号），"
                "最近的空位有：")  # beyond the schedule: not 约满, which would be untrue
    else:
        head = f"您说的那天{label}没有空位了，最近的空位有："
    red = colour_of(turn.session, turn.resident.id) == "red"
    lines = [head] + [f"{i}. {slot_label(s, _now(turn))}（余{seats_for(s, red)}位）" for i, s in enumerate(choices, 1)]
    lines.append("请回复序号选择，例如“1”；回复“取消”结束。")
    return "\n".join(lines)


def _pick_prompt(turn: Turn) -> str:
    choices = [turn.session.get(Slot, i) for i in turn.slots.get("choices") or []]
    choices = [s for s in choices if s is not None]
    return _choices_text(turn, choices, SERVICE_LABELS.get(turn.slots.get("service"), "这个项目"), None)


def _pick(turn: Turn) -> str | None:
    index = pick_number(turn.text, len(turn.slots.get("choices") or []))
    if index is None:
        return _other_time(turn)
    turn.slots["slot_id"] = turn.slots["choices"][index]
    return proceed(_CREATE, turn)


def _other_time(turn: Turn) -> str | None:
    """有下午的吗 / 改到周四行不行 while choosing: offer the slots nearest the new time."""
    wanted = when_from(turn.text, turn.now)
    if not wanted:
        return None
    if wanted.get("from"):
        turn.slots["date"] = wanted["from"]
    if wanted.get("period") or wanted.get("time"):
        turn.slots.update({"period": wanted.get("period"), "time": wanted.get("time")})
    reply = _review(turn)
    save(_CREATE, turn)
    return reply


def _waitlist(turn: Turn) -> str | None:
    if turn.text not in WAITLIST_WORDS:
        return None
    end(turn.conversation)
    slot = turn.session.get(Slot, turn.slots["waitlist_slot"])
    try:
        bookings.join_waitlist(turn.session, turn.resident, slot.id, now=_now(turn))
    except AppError as err:
        return err.message
    return f"已为您登记候补：{slot.service.name}，{slot_label(slot, _now(turn))}。有空位时会通知您。"


def _none(turn: Turn) -> str | None:
    code = service_from_text(turn.text)
    if code is None:
        return None
    turn.slots["service"] = code
    reply = _review(turn)
    save(_CREATE, turn)
    return reply


def _confirm(turn: Turn) -> str:
    slot = slot_with_details(turn.session, turn.slots["slot_id"])
    return (f"请确认预约：\n项目：{slot.service.name}\n时间：{slot_label(slot, _now(turn))}\n"
            "确认请回复“确认”，不约了请回复“取消”。")


def _complete(turn: Turn) -> str:
    try:
        booking = bookings.create_booking(turn.session, turn.resident, turn.slots["slot_id"], now=_now(turn),
                                          source=turn.channel)
    except bookings.SlotFull:
        return "抱歉，这个时段刚刚被约满了。请重新告诉我想约的项目和时间，我再帮您找空位。"
    except AppError as err:
        return err.message
    return (f"预约成功！预约号{booking.number}：{booking.service.name}，{slot_label(booking.slot, _now(turn))}。\n"
            "我们会在前一天和开始前1小时提醒您。要取消请回复“取消预约”。")


_CREATE = register(Flow(
    name="booking", intents=("booking_create",), label="预约",
    slots=(FormSlot("service", ASK_SERVICE, _extract_service),),
    begin=_begin, confirm=_confirm, complete=_complete, guard=_guard_bound, review=_review,
    steps={"pick": _pick, "waitlist": _waitlist, "none": _none},
    step_prompts={"pick": _pick_prompt, "waitlist": lambda turn: "回复“候补”登记候补，或回复“取消”结束。",
                  "none": lambda turn: ASK_SERVICE},
    yes_words=SURE_WORDS,  # the step before picks by number: a second "1" is no yes
))


# ---- booking_cancel ----------------------------------------------------------------------------

def _matching(turn: Turn) -> list[Booking]:
    """The resident's upcoming bookings, narrowed by the service and day named, when that leaves any."""
    mine = movable(turn)
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    code = slots.get("service") or service_from_text(turn.text)
    narrowed = [b for b in mine if code is None or b.service.code == code]
    if slots.get("date"):
        narrowed = [b for b in narrowed if to_local(b.starts_at).date().isoformat() == slots["date"]]
    return narrowed or mine


def _cancel_guard(turn: Turn) -> str | None:
    if turn.resident is None:
        return NOT_BOUND
    if not movable(turn):
        return "您目前没有可以取消的预约。"
    return None


def _cancel_begin(turn: Turn) -> dict:
    return {"choices": [b.id for b in _matching(turn)]}


def _cancel_review(turn: Turn) -> str | None:
    """One booking: ask yes or no; several: list them by number. Both are the flow's own steps, where a
    bare 1 picks and never agrees."""
    if len(turn.slots["choices"]) == 1:
        turn.slots["booking_id"] = turn.slots["choices"][0]
        turn.goto("sure")
        return _cancel_confirm(turn)
    turn.goto("pick")
    return _cancel_list(turn)


def _cancel_list(turn: Turn) -> str:
    return booking_list(turn, turn.slots["choices"], "要取消哪一个？")


def _cancel_pick(turn: Turn) -> str | None:
    chosen = choose_booking(turn, turn.slots["choices"])
    if chosen is None:
        return None
    turn.slots["booking_id"] = chosen
    turn.goto("sure")
    save(_CANCEL, turn)
    return _cancel_confirm(turn)


def _cancel_confirm(turn: Turn) -> str:
    booking = turn.session.get(Booking, turn.slots["booking_id"])
    return (f"要取消这个预约吗？\n{booking.service.name}，{slot_label(booking.slot, _now(turn))}"
            f"（预约号{booking.number}）\n确认取消请回复“确认”；不取消请回复“取消”，预约保持不变。")


def _cancel_sure(turn: Turn) -> str | None:
    answer = yes_or_no(turn.text)
    if answer is None:
        return None
    end(turn.conversation)
    if not answer:
        booking = turn.session.get(Booking, turn.slots["booking_id"])
        return f"好的，不取消。您的{booking.service.name}还是{slot_label(booking.slot, _now(turn))}。"
    return _cancel_complete(turn)


def _cancel_complete(turn: Turn) -> str:
    booking = turn.session.get(Booking, turn.slots["booking_id"])
    try:
        bookings.cancel_booking(turn.session, booking, now=_now(turn))
    except AppError as err:
        return err.message
    return f"已取消预约{booking.number}（{booking.service.name}）。需要时随时再约。"


_CANCEL = register(Flow(
    name="booking_cancel", intents=("booking_cancel",), slots=(), label="取消预约",
    begin=_cancel_begin, confirm=_cancel_confirm, complete=_cancel_complete, guard=_cancel_guard,
    review=_cancel_review, steps={"pick": _cancel_pick, "sure": _cancel_sure},
    step_prompts={"pick": _cancel_list, "sure": _cancel_confirm},
))


# ---- booking_query -----------------------------------------------------------------------------

def _query(turn: Turn) -> str | None:
    """我约的体检是几点: the upcoming bookings (the named service first). 我的预约改到后天上午 (read as a
    question) moves the booking; inside an open booking flow it is left to the flow's own step."""
    if turn.resident is None:
        return NOT_BOUND
    asked = asks_reschedule(turn.text, turn.now)
    if asked is not None and movable(turn):
        if (turn.conversation.dialog or {}).get("flow") in (_CREATE.name, _CANCEL.name, RESCHEDULE_FLOW):
            return None
        return start(turn, asked)
    rows = bookings.active_bookings(turn.session, turn.resident, now=_now(turn))
    if not rows:
        return "您目前没有待就诊的预约。想约的话直接说，例如“明天上午想测个血压”。"
    code = dict(getattr(turn.parsed, "slots", None) or {}).get("service")
    rows.sort(key=lambda b: (code is not None and b.service.code != code, b.starts_at))
    lines = [f"您有{len(rows)}个预约："]
    lines += [f"{i}. {b.service.name}，{slot_label(b.slot, _now(turn))}，预约号{b.number}"
              f"（{bookings.STATUS_LABELS[b.status]}）" for i, b in enumerate(rows[:5], 1)]
    lines.append("要取消请回复“取消预约”。")
    return "\n".join(lines)


register_answer("booking_query", _query)
