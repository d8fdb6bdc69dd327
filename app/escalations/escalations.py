"""Handoff from the bot to people: triggers, conversation states, and what staff do with an escalation.

States on Conversation.state: bot -> waiting_for_staff -> with_staff -> resolved (-> bot on the next
message). While staff hold a conversation the bot stays silent (SILENT), except for safety words, one
note per escalation and the way back (app.escalations.chat). An escalation closes as resolved (staff),
withdrawn (the resident went back to the bot) or timed_out (nobody wrote for ESCALATION_IDLE_RETURN_HOURS);
the last two give the conversation straight back to the bot.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.chat.conversations import pending_inbound, record_outbound, set_dialog, to_naive_utc
from app.chat.models import Conversation, Message
from app.community.models import Resident, Staff
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.outbox import enqueue
from app.core.words import SAFETY_WORDS
from app.escalations import business_hours, replies
from app.escalations.models import (
    OPEN_STATUSES,
    Escalation,
    EscalationNote,
)

log = logging.getLogger(__name__)

SILENT = ""  # intercept(): the bot says nothing; the endpoint answers `success`, workers send nothing
HANDLER_ROLES = ("admin", "property")
SUPERVISOR_ROLES = ("admin",)
MAX_REPLY = 1000
ALERT_JOB = "app.escalations.jobs.alert_staff"
DELIVER_JOB = "app.escalations.jobs.deliver_reply"
SATISFACTION_JOB = "app.escalations.jobs.ask_satisfaction"
PING_JOB = "app.escalations.jobs.ping_assignee"

# the kind of danger a safety word names (app.core.words) -> the advice sent at once, before any
# person has read the message
ADVICE = {
    "gas": "闻到燃气味：请立即关闭燃气总阀，打开门窗通风，不要开关任何电器、不要使用明火和手机，"
           "尽快离开到室外安全处，并拨打燃气抢修电话。",
    "fire": "发生火情：请立即拨打 119，用湿毛巾捂住口鼻，弯腰沿安全通道撤离，不要乘坐电梯。",
    "lift": "电梯困人：请按电梯内的警铃或拨打轿厢内的救援电话，保持冷静，不要扒门或试图爬出，等待救援。",
    "fainted": "有人晕倒：请立即拨打 120，不要随意搬动病人，保持呼吸道通畅，留人在旁等候救护。",
    # a person in danger said in other words (the parser's `emergency`, contract version 2)
    "emergency": "有人遇到危险：请先拨打 120（急救）或 119（火警），不要随意搬动伤者，留人在旁照看，"
                 "并告诉我们具体位置。",
}
SAFETY_ADVICE = {word: ADVICE[kind] for word, kind in SAFETY_WORDS.items()}
SAFETY_TAIL = "\n已紧急通知物业值班人员，工作人员马上联系您。"
HUMAN_REPLY = replies.HUMAN_REPLY  # in business hours; off hours the resident is told when staff start
SATISFACTION_QUESTION = "您的问题已处理完毕。请问您对本次服务满意吗？回复 1 满意，2 一般，3 不满意。"
SATISFACTION_WORDS = {"1": 1, "满意": 1, "2": 2, "一般": 2, "3": 3, "不满意": 3}
SATISFACTION_THANKS = "感谢您的评价！还有其他需要随时发消息给我。"
STATE_FOR = {"waiting": "waiting_for_staff", "with_staff": "with_staff", "resolved": "resolved",
             "withdrawn": "bot", "timed_out": "bot"}


# --- the handoff ----------------------------------------------------------------------------------

def open_escalation(session: Session, conversation_id: int) -> Escalation | None:
    """The conversation's escalation that staff still hold, if any."""
    return session.scalar(select(Escalation).where(Escalation.conversation_id == conversation_id,
                                                   Escalation.status.in_(OPEN_STATUSES))
                          .order_by(Escalation.id.desc()).limit(1))


def _trigger_message(session: Session, conversation: Conversation, text: str) -> Message | None:
    """The inbound message being handled: the newest one of this conversation with this text."""
    if conversation.id is None:
        return None
    pending = pending_inbound(session, conversation)  # the official account's message, written late
    if pending is not None:
        return pending
    rows = session.scalars(select(Message).where(Message.conversation_id == conversation.id,
                                                 Message.direction == "in")
                           .order_by(Message.id.desc()).limit(3))
    return next((m for m in rows if (m.content or "").strip().rstrip("。！!？?，,.～~ ").strip() == text
                 or m.content == text), None)


def escalate(session: Session, conversation: Conversation, *, trigger: str, text: str, now: datetime,
             urgent: bool = False, staff: Staff | None = None, summary: str | None = None,
             hours: business_hours.BusinessHours | None = None) -> Escalation:
    """Hand a conversation to staff (or make its open escalation urgent); one escalation per message.

    summary: what staff read in the queue (default: the message itself)."""
    hours = hours or business_hours.current()
    session.flush()
    current = open_escalation(session, conversation.id)
    now_utc = to_naive_utc(now)
    if current is not None:
        if urgent and not current.urgent:
            current.urgent, current.trigger = True, "safety"
            current.first_response_due, current.resolution_due = business_hours.due_times(
                hours, current.created_at, urgent=True)
            current.alerted_at = None  # alert again, now as urgent
            enqueue(session, ALERT_JOB, current.id, queue="high")
        session.flush()
        return current
    message = _trigger_message(session, conversation, text) if trigger != "takeover" else None
    if message is not None:
        existing = session.scalar(select(Escalation).where(Escalation.trigger_message_id == message.id))
        if existing is not None:
            return existing
    resident = session.get(Resident, conversation.resident_id) if conversation.resident_id else None
    first_due, resolve_due = business_hours.due_times(hours, now_utc, urgent=urgent)
    escalation = Escalation(
        conversation_id=conversation.id, resident_id=conversation.resident_id,
        community_id=resident.community_id if resident else None, building=_building(resident),
        trigger=trigger, trigger_message_id=message.id if message else None, summary=(summary or text or "")[:200],
        urgent=urgent, status="with_staff" if staff else "waiting", assignee_id=staff.id if staff else None,
        created_at=now_utc, last_activity_at=now_utc, first_response_due=first_due, resolution_due=resolve_due,
    )
    try:
        with session.begin_nested():
            session.add(escalation)
    except IntegrityError:  # the same message escalated concurrently (a retry racing the first try)
        existing = session.scalar(select(Escalation).where(Escalation.trigger_message_id == message.id))
        if existing is None:
            raise
        return existing
    conversation.state = STATE_FOR[escalation.status]
    if (conversation.dialog or {}).get("flow") not in (None, "binding"):
        set_dialog(conversation, flow=None, form=None)  # staff take over: a half-filled form is not resumed
    if staff is None:
        enqueue(session, ALERT_JOB, escalation.id, queue="high")
    session.flush()
    return escalation


def _building(resident: Resident | None) -> str | None:
    household = resident.household if resident is not None else None
    return household.unit.building.number if household is not None else None


def withdraw(session: Session, escalation: Escalation, text: str, now: datetime) -> Escalation:
    """The resident goes back to the bot: the escalation closes as withdrawn, staff see why in the console."""
    at = to_naive_utc(now)
    escalation.status, escalation.resolved_at, escalation.last_activity_at = "withdrawn", at, at
    _sync_state(escalation)
    set_dialog(escalation.conversation, held_note=None)
    session.add(EscalationNote(escalation_id=escalation.id, staff_id=None,
                               body=f"住户回复“{text[:20]}”，结束了转人工，机器人继续接待。"))
    session.flush()
    return escalation


def returned_to_bot(session: Session, escalation: Escalation, idle_hours: float) -> None:
    """After an escalation closed as timed_out (jobs.return_idle): the bot has the conversation again."""
    _sync_state(escalation)
    set_dialog(escalation.conversation, held_note=None)
    session.add(EscalationNote(escalation_id=escalation.id, staff_id=None,
                               body=f"{idle_hours:g}小时内住户和工作人员都没有新消息，会话已交回机器人。"))
    session.flush()


# --- what staff do ------------------------------------------------------------------------------------


def can_handle(staff: Staff, escalation: Escalation) -> bool:
    """Whether a staff member's role, community and building scope cover an escalation."""
    if not staff.active or staff.role not in HANDLER_ROLES:
        return False
    if escalation.community_id is not None and escalation.community_id != staff.community_id:
        return False
    scope = staff.building_scope or []
    if not scope:
        return True
    return escalation.building is not None and escalation.building in scope


def get_for(session: Session, escalation_id: int, staff: Staff) -> Escalation:
    """An escalation this staff member may act on; NotFound or Forbidden otherwise."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound("没有找到这条转人工记录", code="escalation_not_found")
    if not can_handle(staff, escalation):
        raise Forbidden("这条会话不在您负责的范围内", code="escalation_out_of_scope")
    return escalation


def _sync_state(escalation: Escalation) -> None:
    escalation.conversation.state = STATE_FOR[escalation.status]


def claim(session: Session, escalation_id: int, staff: Staff, now: datetime | None = None) -> Escalation:
    """Take an escalation: it becomes with_staff and this staff member's."""
    escalation = get_for(session, escalation_id, staff)
    if not escalation.is_open:
        raise Conflict("这条会话已经处理完毕", code="escalation_resolved")
    if escalation.assignee_id not in (None, staff.id):
        raise Conflict(f"这条会话已由{escalation.assignee.name}接手，如需接手请让对方转交",
                       code="escalation_taken")
    escalation.assignee_id, escalation.status = staff.id, "with_staff"
    escalation.last_activity_at = to_naive_utc(now)
    _sync_state(escalation)
    session.flush()
    return escalation


def take_over(session: Session, conversation_id: int, staff: Staff, now: datetime | None = None) -> Escalation:
    """Staff take any conversation away from the bot (or claim its open escalation)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("没有找到这个会话", code="conversation_not_found")
    current = open_escalation(session, conversation_id)
    if current is not None:
        return claim(session, current.id, staff, now)
    probe = Escalation(community_id=None, building=None)
    resident = session.get(Resident, conversation.resident_id) if conversation.resident_id else None
    probe.community_id, probe.building = (resident.community_id if resident else None), _building(resident)
    if not can_handle(staff, probe):
        raise Forbidden("这条会话不在您负责的范围内", code="escalation_out_of_scope")
    return escalate(session, conversation, trigger="takeover", text="工作人员接管", now=now or utcnow(), staff=staff)


def _now() -> datetime:
    from app.core.clock import utcnow

    return utcnow()


def reply(session: Session, escalation_id: int, staff: Staff, text: str, now: datetime | None = None) -> Message:
    """Send the resident a staff reply (delivered by a job, after commit); claims when still waiting."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("回复内容不能为空", code="empty_reply")
    if len(text) > MAX_REPLY:
        raise ValidationFailed(f"回复请不要超过 {MAX_REPLY} 个字", code="reply_too_long")
    escalation = get_for(session, escalation_id, staff)
    if escalation.status == "waiting":
        claim(session, escalation_id, staff, now)
    elif escalation.status == "withdrawn":
        raise Conflict("住户已结束人工服务，机器人已继续接待；住户再要人工会重新转人工", code="escalation_resolved")
    elif not escalation.is_open:
        raise Conflict("这条会话已经处理完毕，住户再发消息会重新转人工", code="escalation_resolved")
    elif escalation.assignee_id not in (None, staff.id) and staff.role not in SUPERVISOR_ROLES:
        raise Conflict("这条会话由其他同事负责", code="escalation_taken")
    at = to_naive_utc(now)
    escalation.first_response_at = escalation.first_response_at or at
    escalation.last_activity_at = at
    message = record_outbound(session, escalation.conversation, text, delivery="queued",
                              payload={"staff_id": staff.id, "staff_name": staff.name,
                                       "escalation_id": escalation.id})
    enqueue(session, DELIVER_JOB, message.id, queue="high")
    return message


def add_note(session: Session, escalation_id: int, staff: Staff, body: str) -> EscalationNote:
    """An internal note for colleagues."""
    body = (body or "").strip()
    if not body or len(body) > MAX_REPLY:
        raise ValidationFailed("备注不能为空，且不超过 1000 字", code="bad_note")
    escalation = get_for(session, escalation_id, staff)
    note = EscalationNote(escalation_id=escalation.id, staff_id=staff.id, body=body)
    session.add(note)
    session.flush()
    return note


def transfer(session: Session, escalation_id: int, staff: Staff, to_staff_id: int,
             now: datetime | None = None) -> Escalation:
    """Hand an escalation to a colleague whose scope covers it."""
    escalation = get_for(session, escalation_id, staff)
    if not escalation.is_open:
        raise Conflict("这条会话已经处理完毕", code="escalation_resolved")
    if escalation.assignee_id not in (None, staff.id) and staff.role not in SUPERVISOR_ROLES:
        raise Forbidden("只能转交自己负责的会话", code="not_assignee")
    target = session.get(Staff, to_staff_id)
    if target is None or target.community_id != staff.community_id or not can_handle(target, escalation):
        raise ValidationFailed("对方不负责这个范围，不能转交", code="bad_transfer_target")
    escalation.assignee_id, escalation.status = target.id, "with_staff"
    escalation.last_activity_at = to_naive_utc(now)
    _sync_state(escalation)
    session.add(EscalationNote(escalation_id=escalation.id, staff_id=staff.id,
                               body=f"{staff.name} 转交给 {target.name}"))
    session.flush()
    return escalation


def resolve(session: Session, escalation_id: int, staff: Staff, now: datetime | None = None) -> Escalation:
    """Close an escalation; the bot takes the conversation back and the resident is asked for a rating."""
    escalation = get_for(session, escalation_id, staff)
    if not escalation.is_open:
        return escalation  # resolving twice changes nothing
    at = to_naive_utc(now)
    escalation.status, escalation.resolved_at, escalation.last_activity_at = "resolved", at, at
    if escalation.assignee_id is None:
        escalation.assignee_id = staff.id
    _sync_state(escalation)
    set_dialog(escalation.conversation, held_note=None)
    if escalation.trigger != "takeover":
        set_dialog(escalation.conversation, satisfaction_for=escalation.id, missed=None)
        enqueue(session, SATISFACTION_JOB, escalation.id)
    session.flush()
    return escalation


def handlers_for(session: Session, escalation: Escalation) -> list[Staff]:
    """Active staff who may handle an escalation (for alerts and the transfer list)."""
    query = select(Staff).where(Staff.active.is_(True), Staff.role.in_(HANDLER_ROLES))
    if escalation.community_id is not None:
        query = query.where(Staff.community_id == escalation.community_id)
    return [s for s in session.scalars(query.order_by(Staff.id)) if can_handle(s, escalation)]


def supervisors_for(session: Session, escalation: Escalation) -> list[Staff]:
    """Active supervisors (admins) of the escalation's community."""
    query = select(Staff).where(Staff.active.is_(True), Staff.role.in_(SUPERVISOR_ROLES))
    if escalation.community_id is not None:
        query = query.where(Staff.community_id == escalation.community_id)
    return list(session.scalars(query.order_by(Staff.id)))
