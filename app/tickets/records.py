"""The ticket's own record: labels, where a problem is, its timeline lines, status moves with what
residents are told, photos, and fetching one ticket. Everything else in tickets builds on this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.core import timeline as shared_timeline
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.timeline import SYSTEM, Actor, resident_actor, staff_actor  # noqa: F401 - part of this API
from app.notify.notify import notify
from app.tickets.models import (
    COMPLAINT_CATEGORIES,
    KINDS,
    REPAIR_CATEGORIES,
    Ticket,
    TicketEvent,
    TicketPhoto,
)

CATEGORY_LABELS = {
    "elevator": "电梯", "water": "水管/漏水", "power": "电路", "lighting": "照明", "door": "门禁/门锁",
    "gas": "燃气", "facility": "公共设施", "other": "其他",
    "noise": "噪音", "falling_object": "高空抛物", "parking": "乱停车", "sanitation": "环境卫生",
    "pets": "宠物", "service": "物业服务",
}
KIND_LABELS = {"repair": "报修", "complaint": "投诉"}
STATUS_LABELS = {
    "submitted": "已提交，待受理", "accepted": "已受理", "assigned": "已派单", "in_progress": "处理中",
    "resolved": "已处理", "closed": "已完结", "reopened": "已重新打开", "cancelled": "已取消",
}
OUTCOME_LABELS = {"fixed": "已修好", "not_fixed": "未能修好", "not_ours": "不属于物业处理范围"}
REOPEN_WINDOW = timedelta(days=7)
CANCELLABLE = ("submitted", "accepted", "reopened")
MAX_PHOTOS = 9
MAX_NOTE = 500


@dataclass(frozen=True)
class Location:
    """Where the problem is: a room (building+unit+room), a building's shared area, or words only."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    place: str = ""

    @property
    def label(self) -> str:
        """The location as residents write it: 3幢2单元1201, 3幢 电梯, 北门停车场."""
        parts = []
        if self.building:
            parts.append(f"{self.building}幢")
        if self.unit:
            parts.append(f"{self.unit}单元")
        if self.room:
            parts.append(self.room)
        text = "".join(parts)
        if self.place and self.place not in text:
            text = f"{text} {self.place}".strip()
        return text or "未说明地点"


def check_category(kind: str, category: str | None) -> str:
    """A valid category for the kind (unknown or missing → other)."""
    if kind not in KINDS:
        raise ValidationFailed("类型只能是报修或投诉", code="bad_kind")
    allowed = REPAIR_CATEGORIES if kind == "repair" else COMPLAINT_CATEGORIES
    return category if category in allowed else "other"


def can_reopen(ticket: Ticket, now: datetime) -> bool:
    """Whether the resident may still reopen the ticket: resolved (or closed) within REOPEN_WINDOW."""
    return (ticket.status in ("resolved", "closed") and ticket.resolved_at is not None
            and now - ticket.resolved_at <= REOPEN_WINDOW)


def describe(ticket: Ticket) -> str:
    """One short line: 报修BX2611240001（3幢 电梯）."""
    category = CATEGORY_LABELS.get(ticket.category, "其他")
    return f"{KIND_LABELS[ticket.kind]}{ticket.number}（{ticket.place or '未说明地点'}，{category}）"


def record_event(session: Session, ticket: Ticket, kind: str, actor: Actor, *, note: str = "",
                 from_status: str | None = None, to_status: str | None = None, data: dict | None = None,
                 now: datetime | None = None) -> TicketEvent:
    """Add a line to the ticket's timeline (to its loaded events too, so a reply built in the same
    request shows it without reading the timeline back)."""
    event = shared_timeline.record(session, TicketEvent(ticket_id=ticket.id, data=data or {}), kind, actor, note=note,
                                   from_status=from_status, to_status=to_status, now=now, max_note=MAX_NOTE)
    if "events" in inspect(ticket).dict:  # never loads the timeline just to add to it
        ticket.events.append(event)
    return event


def inform(session: Session, ticket: Ticket, text: str, *, now: datetime | None = None,
           urgent: bool = False) -> int:
    """Tell the reporter and every follower about a ticket (one notification each); returns how many."""
    ids = [ticket.resident_id, *(f.resident_id for f in ticket.followers)]
    for resident_id in dict.fromkeys(ids):
        notify(session, resident_id, category="service", text=text, urgent=urgent, template="ticket",
               data={"number": ticket.number, "status": STATUS_LABELS.get(ticket.status, ticket.status)},
               link=f"/pages/tickets/detail?id={ticket.id}", now=now)
    return len(dict.fromkeys(ids))


def move(session: Session, ticket: Ticket, to: str, kind: str, actor: Actor, *, note: str = "",
         data: dict | None = None, now: datetime, tell: str | None = None) -> TicketEvent:
    """Change status with a timeline event, and tell the resident (and followers) when `tell` is given."""
    before = shared_timeline.move(ticket, to, now)
    event = record_event(session, ticket, kind, actor, note=note, from_status=before, to_status=to, data=data,
                         now=now)
    if tell:
        inform(session, ticket, tell, now=now)
    return event


def add_photo(session: Session, ticket: Ticket, *, url: str, actor: Actor, media_id: str | None = None,
              stage: str = "report", now: datetime | None = None) -> TicketPhoto:
    """Attach a photo (a report photo, or staff's before/after photo) with a timeline event."""
    if not url or len(url) > 500:
        raise ValidationFailed("图片地址不正确", code="bad_photo")
    count = len(ticket.photos)
    if count >= MAX_PHOTOS * 3:
        raise Conflict("这张单子的照片已经够多了", code="too_many_photos")
    photo = TicketPhoto(ticket_id=ticket.id, stage=stage, url=url, media_id=media_id, added_by_kind=actor.kind,
                        added_by_id=actor.id, created_at=now or utcnow())
    session.add(photo)
    ticket.photos.append(photo)
    record_event(session, ticket, "photo", actor, data={"stage": stage, "url": url}, now=now)
    session.flush()
    return photo


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """A ticket by id; NotFound otherwise."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("没有找到这张单子", code="ticket_not_found")
    return ticket


