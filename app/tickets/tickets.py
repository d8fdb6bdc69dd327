"""Tickets (报事报修): creation, the lifecycle with its timeline, photos, followers, rating, who may see what.

Lifecycle: submitted → accepted → assigned → in_progress → resolved (fixed | not_fixed | not_ours)
→ closed; a resident may cancel before work starts and reopen within 7 days of the resolution.
Every transition writes a TicketEvent (actor, time, note) and tells the resident and followers
through notify(). Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.community.models import Resident, Staff
from app.core.clock import to_local, utcnow
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.notify.notify import notify
from app.tickets.models import (
    COMPLAINT_CATEGORIES,
    KINDS,
    OPEN_STATUSES,
    REPAIR_CATEGORIES,
    Ticket,
    TicketEvent,
    TicketFollower,
    TicketPhoto,
    TicketRating,
)
from app.tickets.sla import DEFAULT_SLA, SlaPolicy

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
URGENT_WORDS = ("漏水严重", "水漫", "淹了", "爆管", "电梯困人", "困人", "被困", "关在电梯", "燃气味", "煤气味",
                "天然气味", "漏气", "着火", "起火", "冒烟", "火灾", "触电", "漏电")
REOPEN_WINDOW = timedelta(days=7)
CANCELLABLE = ("submitted", "accepted", "reopened")
MAX_PHOTOS = 9
MAX_NOTE = 500


@dataclass(frozen=True)
class Actor:
    """Who made a change: a resident, a staff member, or the system."""

    kind: str
    id: int | None = None
    name: str = ""


SYSTEM = Actor("system", None, "系统")


def resident_actor(resident: Resident) -> Actor:
    """The resident as the actor of a timeline event."""
    return Actor("resident", resident.id, resident.name)


def staff_actor(staff: Staff) -> Actor:
    """The staff member as the actor of a timeline event."""
    return Actor("staff", staff.id, staff.name)


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


def is_urgent(text: str) -> bool:
    """Whether a report names an emergency (漏水严重, 电梯困人, 燃气味, 着火, ...)."""
    return any(word in (text or "") for word in URGENT_WORDS)


def check_category(kind: str, category: str | None) -> str:
    """A valid category for the kind (unknown or missing → other)."""
    if kind not in KINDS:
        raise ValidationFailed("类型只能是报修或投诉", code="bad_kind")
    allowed = REPAIR_CATEGORIES if kind == "repair" else COMPLAINT_CATEGORIES
    return category if category in allowed else "other"


def describe(ticket: Ticket) -> str:
    """One short line: 报修BX2611240001（3幢 电梯）."""
    category = CATEGORY_LABELS.get(ticket.category, "其他")
    return f"{KIND_LABELS[ticket.kind]}{ticket.number}（{ticket.place or '未说明地点'}，{category}）"


def _event(session: Session, ticket: Ticket, kind: str, actor: Actor, *, note: str = "",
           from_status: str | None = None, to_status: str | None = None, data: dict | None = None,
           now: datetime | None = None) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, kind=kind, from_status=from_status, to_status=to_status,
                        actor_kind=actor.kind, actor_id=actor.id, actor_name=actor.name[:50],
                        note=(note or "")[:MAX_NOTE], data=data or {}, created_at=now or utcnow())
    session.add(event)
    return event


def inform(session: Session, ticket: Ticket, text: str, *, now: datetime | None = None,
           urgent: bool = False) -> int:
    """Tell the reporter and every follower about a ticket (one notification each); returns how many."""
    ids = [ticket.resident_id, *session.scalars(
        select(TicketFollower.resident_id).where(TicketFollower.ticket_id == ticket.id))]
    for resident_id in dict.fromkeys(ids):
        notify(session, resident_id, category="service", text=text, urgent=urgent, template="ticket",
               data={"number": ticket.number, "status": STATUS_LABELS.get(ticket.status, ticket.status)},
               link=f"/pages/tickets/detail?id={ticket.id}", now=now)
    return len(dict.fromkeys(ids))


def _move(session: Session, ticket: Ticket, to: str, kind: str, actor: Actor, *, note: str = "",
          data: dict | None = None, now: datetime, tell: str | None = None) -> TicketEvent:
    """Change status with a timeline event, and tell the resident (and followers) when `tell` is given."""
    before = ticket.status
    ticket.status = to
    ticket.updated_at = now
    event = _event(session, ticket, kind, actor, note=note, from_status=before, to_status=to, data=data, now=now)
    session.flush()
    if tell:
        inform(session, ticket, tell, now=now)
    return event


def create_ticket(session: Session, *, resident: Resident, kind: str, category: str | None, description: str,
                  location: Location, source: str = "oa", urgent: bool | None = None,
                  photos: list[dict] | None = None, sla: SlaPolicy | None = None,
                  now: datetime | None = None) -> Ticket:
    """Record a report, number it, start its SLA clock, route it, and alert staff when urgent."""
    from app.tickets import dispatch as ticket_dispatch

    description = (description or "").strip()
    if not description:
        raise ValidationFailed("请描述一下遇到的问题", code="empty_description")
    now = now or utcnow()
    category = check_category(kind, category)
    urgent = is_urgent(description) if urgent is None else urgent
    priority = "urgent" if urgent else "normal"
    ticket = Ticket(
        community_id=resident.community_id, kind=kind, category=category, status="submitted", priority=priority,
        resident_id=resident.id, household_id=resident.household_id, building=location.building,
        unit=location.unit, room=location.room, place=location.label[:200], description=description[:2000],
        source=source, sla_due_at=(sla or DEFAULT_SLA).due(now, priority), created_at=now, updated_at=now,
    )
    session.add(ticket)
    session.flush()
    ticket.number = f"{'BX' if kind == 'repair' else 'TS'}{to_local(now):%y%m%d}{ticket.id:04d}"
    _event(session, ticket, "created", resident_actor(resident), to_status="submitted",
           note=description[:MAX_NOTE], data={"priority": priority, "source": source}, now=now)
    for photo in photos or []:
        add_photo(session, ticket, url=photo["url"], media_id=photo.get("media_id"),
                  actor=resident_actor(resident), now=now)
    session.flush()
    ticket_dispatch.route(session, ticket, now=now)
    return ticket


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
    _event(session, ticket, "photo", actor, data={"stage": stage, "url": url}, now=now)
    session.flush()
    return photo


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """A ticket by id; NotFound otherwise."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("没有找到这张单子", code="ticket_not_found")
    return ticket


def visible_to_resident(session: Session, ticket: Ticket, resident: Resident) -> bool:
    """A resident sees their household's tickets and the ones they follow."""
    if ticket.resident_id == resident.id:
        return True
    if resident.household_id is not None and ticket.household_id == resident.household_id:
        return True
    return session.scalar(select(TicketFollower.id).where(TicketFollower.ticket_id == ticket.id,
                                                          TicketFollower.resident_id == resident.id)) is not None


def ticket_for_resident(session: Session, ticket_id: int, resident: Resident) -> Ticket:
    """A ticket the resident may see; another household's ticket is reported as not found."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not visible_to_resident(session, ticket, resident):
        raise NotFound("没有找到这张单子", code="ticket_not_found")
    return ticket


def tickets_for_resident(session: Session, resident: Resident, *, open_only: bool = False,
                         limit: int = 50) -> list[Ticket]:
    """The household's tickets and followed ones, newest first."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.resident_id == resident.id)
    mine = [Ticket.resident_id == resident.id, Ticket.id.in_(followed)]
    if resident.household_id is not None:
        mine.append(Ticket.household_id == resident.household_id)
    query = select(Ticket).where(or_(*mine))
    if open_only:
        query = query.where(Ticket.status.in_((*OPEN_STATUSES, "resolved")))
    return list(session.scalars(query.order_by(Ticket.id.desc()).limit(limit)))


def cancel(session: Session, ticket_id: int, resident: Resident, reason: str = "",
           now: datetime | None = None) -> Ticket:
    """The resident withdraws a report before work has started."""
    ticket = ticket_for_resident(session, ticket_id, resident)
    if ticket.status not in CANCELLABLE:
        raise Conflict("工作人员已经在处理了，无法取消；如有需要请联系物业", code="not_cancellable")
    _move(session, ticket, "cancelled", "cancelled", resident_actor(resident), note=reason or "住户取消",
          now=now or utcnow())
    return ticket


def reopen(session: Session, ticket_id: int, resident: Resident, reason: str, *, sla: SlaPolicy | None = None,
           now: datetime | None = None) -> Ticket:
    """Reopen a resolved (or closed) ticket that was not really fixed, within 7 days of its resolution."""
    from app.tickets import dispatch as ticket_dispatch

    now = now or utcnow()
    ticket = ticket_for_resident(session, ticket_id, resident)
    if ticket.status not in ("resolved", "closed") or ticket.resolved_at is None:
        raise Conflict("这张单子还在处理中，不需要重新打开", code="not_reopenable")
    if now - ticket.resolved_at > REOPEN_WINDOW:
        raise Conflict("处理完成已超过7天，请重新报修", code="reopen_window_passed")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请说明一下还有什么问题", code="reason_required")
    ticket.reopen_count += 1
    ticket.outcome, ticket.outcome_reason = None, None
    ticket.accepted_at, ticket.resolved_at, ticket.closed_at, ticket.escalated_at = None, None, None, None
    ticket.sla_due_at = (sla or DEFAULT_SLA).due(now, ticket.priority)
    _move(session, ticket, "reopened", "reopened", resident_actor(resident), note=reason, now=now)
    ticket_dispatch.alert_staff(session, ticket, "reopened")
    return ticket


def rate(session: Session, ticket_id: int, resident: Resident, *, overall: int, speed: int, attitude: int,
         comment: str = "", now: datetime | None = None) -> TicketRating:
    """The resident rates a resolved ticket (three scores 1–5), which closes it."""
    now = now or utcnow()
    ticket = ticket_for_resident(session, ticket_id, resident)
    if ticket.resident_id != resident.id:
        raise Forbidden("只有报事的住户可以评价", code="not_reporter")
    if ticket.status != "resolved":
        raise Conflict("处理完成后才能评价", code="not_ratable")
    scores = {"overall": overall, "speed": speed, "attitude": attitude}
    for name, value in scores.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise ValidationFailed("评分请选 1 到 5 分", code="bad_score", details={"field": name})
    rating = TicketRating(ticket_id=ticket.id, resident_id=resident.id, comment=(comment or "")[:300],
                          created_at=now, **scores)
    session.add(rating)
    ticket.closed_at = now
    _move(session, ticket, "closed", "rated", resident_actor(resident), note=rating.comment, data=scores, now=now)
    return rating


def follow(session: Session, ticket: Ticket, resident: Resident, now: datetime | None = None) -> bool:
    """Add a resident as a follower of someone else's report; False when already following."""
    if ticket.resident_id == resident.id:
        return False
    found = session.scalar(select(TicketFollower).where(TicketFollower.ticket_id == ticket.id,
                                                        TicketFollower.resident_id == resident.id))
    if found is not None:
        return False
    session.add(TicketFollower(ticket_id=ticket.id, resident_id=resident.id, created_at=now or utcnow()))
    _event(session, ticket, "followed", resident_actor(resident), note="同一问题的其他住户加入关注", now=now)
    session.flush()
    return True


def timeline(ticket: Ticket) -> list[dict]:
    """The ticket's events as plain dicts, oldest first."""
    return [{"kind": e.kind, "from": e.from_status, "to": e.to_status, "actor": e.actor_kind,
             "actor_name": e.actor_name, "note": e.note, "at": e.created_at.isoformat() + "Z"}
            for e in ticket.events]
