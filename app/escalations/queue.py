"""The staff queue of escalations: filtered by waiting, mine, urgent and SLA breached, in the staff's scope."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.chat.models import Message
from app.community.models import Household, Resident, Staff, Unit
from app.core.clock import utcnow
from app.escalations.models import CLOSED_STATUSES, OPEN_STATUSES, Escalation, EscalationNote

FILTERS = {"waiting": "待接手", "mine": "我的", "urgent": "紧急", "breached": "已超时", "open": "全部进行中",
           "resolved": "已解决"}  # resolved: every closed one (resolved by staff, withdrawn, timed out)
STATUS_LABELS = {"waiting": "待接手", "with_staff": "处理中", "resolved": "已解决", "withdrawn": "住户已结束人工",
                 "timed_out": "长时间无消息，已交回机器人"}
PAGE = 50
HISTORY = 200
CLOSED_WORDS = frozenset({"closed", "resolved", "cancelled", "canceled", "done", "completed", "rejected",
                          "fulfilled", "declined", "no_show"})
# module, class, label: other sections' tables, shown when they exist in this deployment
CONTEXT_TABLES = (("app.tickets.models", "Ticket", "报修/投诉"), ("app.models.bookings", "Booking", "预约"),
                  ("app.wishes.models", "Wish", "心愿"))


def scoped(query: Select, staff: Staff) -> Select:
    """Limit an escalation query to the staff member's community and buildings."""
    query = query.where(or_(Escalation.community_id == staff.community_id, Escalation.community_id.is_(None)))
    scope = [str(b) for b in (staff.building_scope or [])]
    if scope:
        query = query.where(Escalation.building.in_(scope))
    return query


def breached(now: datetime):
    """SQL condition: an open escalation past its first-response or resolution target."""
    return and_(Escalation.status.in_(OPEN_STATUSES), or_(
        and_(Escalation.first_response_at.is_(None), Escalation.first_response_due < now),
        Escalation.resolution_due < now))


def _condition(name: str, staff: Staff, now: datetime):
    if name == "waiting":
        return Escalation.status == "waiting"
    if name == "mine":
        return and_(Escalation.assignee_id == staff.id, Escalation.status.in_(OPEN_STATUSES))
    if name == "urgent":
        return and_(Escalation.urgent.is_(True), Escalation.status.in_(OPEN_STATUSES))
    if name == "breached":
        return breached(now)
    if name == "resolved":
        return Escalation.status.in_(CLOSED_STATUSES)
    return Escalation.status.in_(OPEN_STATUSES)


def counts(session: Session, staff: Staff, now: datetime | None = None) -> dict[str, int]:
    """How many escalations each open filter holds, for the tabs (one query)."""
    now = now or utcnow()
    columns = [func.count().filter(_condition(name, staff, now)).label(name)
               for name in FILTERS if name != "resolved"]
    row = session.execute(scoped(select(*columns).select_from(Escalation)
                                 .where(Escalation.status.in_(OPEN_STATUSES)), staff)).one()
    return dict(row._mapping)


def listing(session: Session, staff: Staff, name: str, now: datetime | None = None) -> list[Escalation]:
    """One page of a queue filter: urgent first, then the longest waiting."""
    now = now or utcnow()
    name = name if name in FILTERS else "waiting"
    query = scoped(select(Escalation).where(_condition(name, staff, now)), staff)
    if name == "resolved":
        query = query.order_by(Escalation.resolved_at.desc())
    else:
        query = query.order_by(Escalation.urgent.desc(), Escalation.created_at, Escalation.id)
    query = query.options(joinedload(Escalation.resident).joinedload(Resident.household)
                          .joinedload(Household.unit).joinedload(Unit.building),
                          joinedload(Escalation.assignee))
    return list(session.scalars(query.limit(PAGE)).unique())


def is_breached(escalation: Escalation, now: datetime | None = None) -> bool:
    """Whether an open escalation is past a target."""
    now = now or utcnow()
    if not escalation.is_open:
        return False
    late_first = escalation.first_response_at is None and escalation.first_response_due is not None \
        and escalation.first_response_due < now
    return late_first or (escalation.resolution_due is not None and escalation.resolution_due < now)


def history(session: Session, conversation_id: int, after_id: int = 0) -> list[Message]:
    """The conversation's messages (the newest HISTORY of them), oldest first."""
    rows = list(session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                      Message.id > after_id)
                                .order_by(Message.id.desc()).limit(HISTORY)))
    return rows[::-1]


def notes(session: Session, escalation_id: int) -> list[EscalationNote]:
    """Internal notes, oldest first."""
    return list(session.scalars(select(EscalationNote).where(EscalationNote.escalation_id == escalation_id)
                                .options(joinedload(EscalationNote.staff)).order_by(EscalationNote.id)))


@dataclass(frozen=True)
class ContextItem:
    """One open ticket, booking or wish of the resident."""

    kind: str
    label: str
    status: str


def resident_context(session: Session, resident: Resident | None) -> list[ContextItem]:
    """The resident's open tickets, bookings and wishes, from whichever of those tables exist."""
    if resident is None:
        return []
    items: list[ContextItem] = []
    for module_name, class_name, kind in CONTEXT_TABLES:
        try:
            model: Any = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        if not hasattr(model, "resident_id"):
            continue
        rows = session.scalars(select(model).where(model.resident_id == resident.id)
                               .order_by(model.id.desc()).limit(10))
        for row in rows:
            status = str(getattr(row, "status", "") or "")
            if status in CLOSED_WORDS:
                continue
            text = next((str(getattr(row, a)) for a in ("description", "title", "facility", "service", "summary")
                         if getattr(row, a, None)), "")
            number = getattr(row, "number", None) or f"#{row.id}"
            items.append(ContextItem(kind, f"{number} {text[:40]}".strip(), status))
    return items


def delivery_label(message: Message, notifications: dict[int, Any]) -> str:
    """What staff see about an outbound message: sent (and how), waiting, or failed and why."""
    channel_names = {"custom": "客服消息", "subscribe": "订阅消息", "template": "模板消息"}
    payload = message.payload or {}
    if message.delivery == "notified":
        note = notifications.get(payload.get("notification_id"))
        if note is None:
            return "发送中"
        if note.status == "sent":
            return f"已送达（{channel_names.get(note.channel, note.channel)}）"
        if note.status in ("failed", "skipped"):
            return f"未送达：{note.reason or '没有可用的渠道'}"
        return "发送中"
    if message.delivery == "sent":
        return "已送达（客服消息）"
    if message.delivery == "failed":
        return f"未送达：{payload.get('reason') or payload.get('errcode') or ''}"
    return "发送中" if message.delivery in ("queued", "sending") else ""


def notifications_for(session: Session, messages: list[Message]) -> dict[int, Any]:
    """The notifications behind staff replies, by id (one query)."""
    from app.notify.models import Notification

    ids = [m.payload.get("notification_id") for m in messages if (m.payload or {}).get("notification_id")]
    if not ids:
        return {}
    return {n.id: n for n in session.scalars(select(Notification).where(Notification.id.in_(ids)))}


def recent_conversations(session: Session, staff: Staff, q: str = "", limit: int = PAGE) -> list:
    """Conversations the bot is having (newest first) that this staff member may take over; q searches names."""
    from app.chat.models import Conversation  # noqa: PLC0415
    from app.community.models import Building

    query = (select(Conversation, Resident).outerjoin(Resident, Conversation.resident_id == Resident.id)
             .outerjoin(Household, Resident.household_id == Household.id)
             .outerjoin(Unit, Household.unit_id == Unit.id)
             .outerjoin(Building, Unit.building_id == Building.id)
             .where(Conversation.state.in_(("bot", "resolved")), Conversation.last_inbound_at.is_not(None)))
    query = query.where(or_(Resident.community_id == staff.community_id, Resident.id.is_(None)))
    scope = [str(b) for b in (staff.building_scope or [])]
    if scope:
        query = query.where(Building.number.in_(scope))
    if q:
        query = query.where(Resident.name.contains(q, autoescape=True))
    query = query.options(joinedload(Resident.household).joinedload(Household.unit).joinedload(Unit.building))
    return list(session.execute(query.order_by(Conversation.last_inbound_at.desc()).limit(limit)).all())


def last_messages(session: Session, conversation_ids: list[int]) -> dict[int, str]:
    """The newest inbound text of each conversation (one query)."""
    if not conversation_ids:
        return {}
    newest = (select(func.max(Message.id)).where(Message.conversation_id.in_(conversation_ids),
                                                 Message.direction == "in")
              .group_by(Message.conversation_id))
    rows = session.execute(select(Message.conversation_id, Message.content).where(Message.id.in_(newest)))
    return {cid: content for cid, content in rows}
