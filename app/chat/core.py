"""The chat core: one resident message in, one reply text out, the same for every channel.

Pure service: a session and plain values in, a reply out; it flushes, never commits, and never
looks at the Flask request or app.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.binding import bindings as binding
from app.chat import dialog, hooks
from app.chat.conversations import get_conversation, note_parse, set_dialog, touch_inbound
from app.chat.env import ChatEnv
from app.chat.menu import help_text
from app.chat.models import STAFF_HELD, Conversation
from app.community.models import Resident
from app.community.rooms import find_phone, parse_room
from app.core.clock import SHANGHAI, local_now
from app.core.errors import AppError
from app.core.words import EMERGENCY, HUMAN_WORDS, safety_word

log = logging.getLogger(__name__)

MAX_TEXT = 500  # longer messages are cut before parsing: nobody writes a 2,000-character repair
BIND_WORDS = frozenset({"绑定", "认证", "绑定房号", "绑定房屋", "房号绑定", "我要绑定", "身份认证", "住户认证"})
CANCEL_WORDS = frozenset({"取消", "退出", "算了", "不绑了", "取消绑定"})  # the binding dialog's own
_CODE = re.compile(r"^\s*(\d{6})\s*$")

BIND_HINT = "还没有绑定房号？发送“绑定”，按提示填写房号和手机号即可。"
ASK_ROOM_AND_PHONE = (
    "好的，我们来绑定您的房号。请发送房号和在物业登记的手机号，"
    "例如：3幢2单元1201 13812345678（也可以分两条发）。回复“取消”可退出。"
)
ASK_ROOM = "请告诉我您的房号，例如：3幢2单元1201 或 3-2-1201。回复“取消”可退出。"
ASK_PHONE = "请告诉我您在物业登记的手机号（11位）。回复“取消”可退出。"
HUMAN_REPLY = "好的，已为您转给物业工作人员，请稍候，工作人员会尽快回复您。"
CANCELLED = "已取消绑定。需要时随时发送“绑定”重新开始。"


def local(now: datetime | None) -> datetime:
    """now as an aware Asia/Shanghai time (naive values are taken as UTC)."""
    if now is None:
        return local_now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(SHANGHAI)


def help_menu(resident: Resident | None) -> str:
    """What residents can do here; unbound users are also told how to bind."""
    return help_text() if resident is not None else f"{help_text()}\n\n{BIND_HINT}"


def handle_text(session: Session, *, channel: str, openid: str, text: str, now: datetime | None = None,
                env: ChatEnv | None = None) -> str:
    """Answer one text message from a WeChat user; returns the reply to show them.

    env carries the app's settings and Redis for the flows that need them (see chat_env).
    """
    now = local(now)
    conversation = get_conversation(session, channel, openid)
    touch_inbound(conversation, now)
    text = _bare(_normal((text or "")[:MAX_TEXT]))
    resident = _resident(session, conversation)
    # parsed once for the whole turn; a conversation staff hold is only parsed if the bot answers it
    parsed = None if conversation.state in STAFF_HELD else _parse(text, now)
    intercepted = hooks.intercept(session, conversation, text, now, parsed)  # staff hold, safety, escalation
    if intercepted is not None:
        word = safety_word(text)
        if not word and parsed is not None and parsed.intent == "emergency":
            word = EMERGENCY  # 我妈摔倒了起不来: no safety word, but the parser heard a person in danger
        if word:  # e.g. a trapped lift is also an urgent repair; a fall, an alert to the family doctor
            hooks.react_to_safety(session, conversation, resident, word, text, parsed or _parse(text, now), now,
                                  env or ChatEnv())
        session.flush()
        return intercepted
    flow = (conversation.dialog or {}).get("flow")

    if (resident is None and text in BIND_WORDS) or flow == "binding":
        reply = _binding_step(session, conversation, text, resident)
        if reply is not None:
            session.flush()
            return reply
    if text in BIND_WORDS:  # already bound
        return f"您已绑定{_address(resident)}，无需重复绑定。\n\n{help_text()}"
    if resident is None and _CODE.match(text):
        return _confirm_code(session, conversation, _CODE.match(text).group(1))

    reply = _answer(session, conversation, text, resident, now, env or ChatEnv(), parsed)
    session.flush()
    return reply


def _normal(text: str) -> str:
    """The message as the flows read it: full-width forms as ASCII, traditional characters as simplified,
    pinyin slips in domain words mended (確認 → 确认, 楼到灯 → 楼道灯), so every word list and place matches
    whichever way it was typed; the message row keeps what the resident wrote."""
    try:
        from nlp import normalize  # noqa: PLC0415 - optional until the language package lands
    except ImportError:
        return text
    try:
        return normalize(text)
    except Exception:  # a bug in the language code must not cost the resident an answer
        log.exception("nlp.normalize failed on %r", text[:50])
        return text


def _bare(text: str) -> str:
    """text without surrounding blanks and closing punctuation (voice recognition adds a 。)."""
    return text.strip().rstrip("。！!？?，,.～~ ").strip()


def _resident(session: Session, conversation: Conversation) -> Resident | None:
    resident = binding.resident_for_openid(session, conversation.channel, conversation.openid)
    if resident is not None and conversation.resident_id != resident.id:
        conversation.resident_id = resident.id
    return resident


def _address(resident: Resident | None) -> str:
    household = resident.household if resident is not None else None
    return household.label if household is not None else "房号"


def _answer(session: Session, conversation: Conversation, text: str, resident: Resident | None,
            now: datetime, env: ChatEnv, parsed=None) -> str:
    """The general answer: an open or new dialog flow, greeting, hand-over to a person, or the help menu."""
    parsed = parsed if parsed is not None else _parse(text, now)
    if parsed is not None:
        note_parse(session, {"intent": parsed.intent, "confidence": round(float(parsed.confidence), 3),
                             "slots": dict(parsed.slots)})
    reply = hooks.early_reply(session, resident, text, now)
    if reply is not None:  # e.g. a car owner's 已处理 to a notice about their car
        return reply
    reply = dialog.respond(session, conversation, resident, text, parsed, now, env)
    if reply is not None:
        return reply
    intent = parsed.intent if parsed is not None else None
    if text in HUMAN_WORDS:
        intent = "human"
    if intent == "greeting":
        name = f"{resident.name}，" if resident is not None else ""
        return f"{name}您好！我是小区的邻里助手，有什么可以帮您？\n\n{help_menu(resident)}"
    if intent == "human":
        return HUMAN_REPLY
    weak = intent in (None, "out_of_scope") or parsed is None or float(parsed.confidence) < dialog.START_CONFIDENCE
    return hooks.fallback(session, conversation, resident, text, now, weak, parsed) or help_menu(resident)


def _parse(text: str, now: datetime):
    """nlp.parse(text, now) when the language package is available, else None."""
    if not text:
        return None
    try:
        from nlp import parse  # noqa: PLC0415 - optional until the language package lands
    except ImportError:
        return None
    try:
        return parse(text, now=now)
    except Exception:  # a parser bug must not cost the resident an answer
        log.exception("nlp.parse failed on %r", text[:50])
        return None


def _binding_step(session: Session, conversation: Conversation, text: str, resident: Resident | None) -> str | None:
    """One step of the binding dialog; None hands the message to the general answer."""
    state = dict((conversation.dialog or {}).get("binding") or {})
    if text in CANCEL_WORDS:
        set_dialog(conversation, flow=None, binding=None)
        return CANCELLED
    if resident is not None:  # bound meanwhile (staff approved): the flow is over
        set_dialog(conversation, flow=None, binding=None)
        return None
    if text in BIND_WORDS:
        set_dialog(conversation, flow="binding", binding={"step": "details"})
        return ASK_ROOM_AND_PHONE
    code = _CODE.match(text)
    if state.get("step") == "submitted":
        if code:
            return _confirm_code(session, conversation, code.group(1))
        return None  # waiting for staff: other questions get ordinary answers

    room, phone = parse_room(text), find_phone(text)
    if room is None and phone is None:
        if code or not _looks_like_details(text):
            return None
        return ASK_ROOM if not state.get("building") else ASK_PHONE
    if room is not None:
        state.update(building=room.building, unit=room.unit, room=room.room)
    if phone is not None:
        state["phone"] = phone
    if not state.get("building"):
        set_dialog(conversation, binding={**state, "step": "details"})
        return f"手机号已记下。{ASK_ROOM}"
    if not state.get("phone"):
        set_dialog(conversation, binding={**state, "step": "details"})
        return f"房号已记下。{ASK_PHONE}"
    return _submit(session, conversation, state)


def _looks_like_details(text: str) -> bool:
    """Digits without a recognisable room or phone: probably a mistyped answer, so ask again."""
    return any(ch.isdigit() for ch in text)


def _submit(session: Session, conversation: Conversation, state: dict) -> str:
    try:
        pending = binding.start_binding(
            session, channel=conversation.channel, openid=conversation.openid, building=state["building"],
            unit=state.get("unit"), room=state["room"], phone=state["phone"],
        )
    except AppError as err:
        set_dialog(conversation, binding={"step": "details"})
        return f"{err.message}\n请核对后重新发送房号和手机号，或回复“取消”退出。"
    unit = f"{state['unit']}单元" if state.get("unit") else ""
    set_dialog(conversation, binding={"step": "submitted", "binding_id": pending.id})
    masked = state["phone"][:3] + "****" + state["phone"][-4:]
    return (f"已提交绑定申请：{state['building']}幢{unit}{state['room']}，手机号{masked}。\n"
            "物业工作人员核实后会为您确认，确认后会通知您；"
            "如果工作人员给了您6位验证码，直接回复验证码即可完成绑定。")


def _confirm_code(session: Session, conversation: Conversation, code: str) -> str:
    try:
        resident = binding.confirm_binding(session, channel=conversation.channel, openid=conversation.openid,
                                           code=code)
    except AppError as err:
        return err.message
    conversation.resident_id = resident.id
    set_dialog(conversation, flow=None, binding=None)
    session.flush()
    return f"绑定成功！{resident.name}，您好，已确认您是{_address(resident)}的住户。\n\n{help_text()}"
