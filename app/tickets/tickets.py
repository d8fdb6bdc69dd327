"""Tickets (报事报修): creation, the lifecycle with its timeline, photos, followers, rating, who may see what.

Lifecycle: submitted → accepted → assigned → in_progress → resolved (fixed | not_fixed | not_ours)
→ closed; a resident may cancel before work starts and reopen within 7 days of the resolution.
Every transition writes a TicketEvent (actor, time, note) and tells the resident and followers
through notify(). Services flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.community.models import Building, Resident
from app.community.staff import resident_building
from app.core.clock import to_local, utcnow
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.timeline import resident_actor
from app.core.words import is_urgent
from app.tickets.dispatch import alert_staff
from app.tickets.models import (
    OPEN_STATUSES,
    Ticket,
    TicketFollower,
    TicketRating,
)
from app.tickets.records import (
    CANCELLABLE,
    MAX_NOTE,
    REOPEN_WINDOW,
    Location,
    add_photo,
    check_category,
    move,
    record_event,
)
from app.tickets.routing import route
from app.tickets.sla import DEFAULT_SLA, SlaPolicy


def check_building(session: Session, community_id: int, building: str | None) -> None:
    """A named building must be one of the community's (a report for 99幢 that does not exist is refused)."""
    if building is None:
        return
    known = session.scalar(select(Building.id).where(Building.community_id == community_id,
                                                     Building.number == building))
    if known is None:
        raise ValidationFailed(f"本小区没有{building}幢，请核对楼号", code="unknown_building",
                               details={"field": "building"})


def create_ticket(session: Session, *, resident: Resident, kind: str, category: str | None, description: str,
                  location: Location, source: str = "oa", urgent: bool | None = None,
                  photos: list[dict] | None = None, sla: SlaPolicy | None = None,
                  now: datetime | None = None) -> Ticket:
    """Record a report, number it, start its SLA clock, route it, and alert staff when urgent."""
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("请描述一下遇到的问题", code="empty_description")
    now = now or utcnow()
    category = check_category(kind, category)
    if location.building != resident_building(resident):  # the resident's own building is known to exist
        check_building(session, resident.community_id, location.building)
    urgent = is_urgent(description) if urgent is None else urgent
    priority = "urgent" if urgent else "normal"
    ticket = Ticket(
        community_id=resident.community_id, kind=kind, category=category, status="submitted", priority=priority,
        resident_id=resident.id, household_id=resident.household_id, building=location.building,
        unit=location.unit, room=location.room, place=location.label[:200], description=description[:2000],
        source=source, sla_due_at=(sla or DEFAULT_SLA).due(now, priority), created_at=now, updated_at=now,
        events=[], photos=[], followers=[],  # known for a new ticket: nothing to read back
    )
    session.add(ticket)
    session.flush()  # the id numbers the ticket; what follows goes out in one flush at the end
    with session.no_autoflush:
        ticket.number = f"{'BX' if kind == 'repair' else 'TS'}{to_local(now):%y%m%d}{ticket.id:04d}"
        record_event(session, ticket, "created", resident_actor(resident), to_status="submitted",
                     note=description[:MAX_NOTE], data={"priority": priority, "source": source}, now=now)
        for photo in photos or []:
            add_photo(session, ticket, url=photo["url"], media_id=photo.get("media_id"),
                      actor=resident_actor(resident), now=now)
        route(session, ticket, now=now)
    session.flush()
    return ticket


def visible_to_resident(session: Session, ticket: Ticket, resident: Resident) -> bool:
    """A resident sees their household's tickets and the ones they follow."""
    if ticket.resident_id == resident.id:
        return True
    if resident.household_id is not None and ticket.household_id == resident.household_id:
        return True
    return session.scalar(select(TicketFollower.id).where(TicketFollower.ticket_id == ticket.id,
                                                          TicketFollower.resident_id == resident.id)) is not None


def in_reporters_household(ticket: Ticket, resident: Resident) -> bool:
    """Whether the resident reported the ticket or lives in the household that did (they may act on it)."""
    return ticket.resident_id == resident.id or (
        resident.household_id is not None and ticket.household_id == resident.household_id)


def may_follow(ticket: Ticket, resident: Resident) -> bool:
    """Whether the ticket is offered to the resident to follow: a shared area of their own building
    (and of their own unit, when the ticket names one) in their community, not a home."""
    household = resident.household
    if ticket.community_id != resident.community_id or ticket.room is not None or household is None:
        return False
    unit = household.unit
    return ticket.building == unit.building.number and ticket.unit in (None, unit.number)


def ticket_to_act_on(session: Session, ticket_id: int, resident: Resident) -> Ticket:
    """A ticket the resident may change (cancel, reopen, add photos): their household's. Followers only read."""
    ticket = ticket_for_resident(session, ticket_id, resident)
    if not in_reporters_household(ticket, resident):
        raise Forbidden("只有报事的住户家里可以操作这张单子", code="not_reporters_household")
    return ticket


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
    ticket = ticket_to_act_on(session, ticket_id, resident)
    if ticket.status not in CANCELLABLE:
        raise Conflict("工作人员已经在处理了，无法取消；如有需要请联系物业", code="not_cancellable")
    move(session, ticket, "cancelled", "cancelled", resident_actor(resident), note=reason or "住户取消",
          now=now or utcnow())
    return ticket


def reopen(session: Session, ticket_id: int, resident: Resident, reason: str, *, sla: SlaPolicy | None = None,
           now: datetime | None = None) -> Ticket:
    """Reopen a resolved (or closed) ticket that was not really fixed, within 7 days of its resolution."""
    now = now or utcnow()
    ticket = ticket_to_act_on(session, ticket_id, resident)
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
    move(session, ticket, "reopened", "reopened", resident_actor(resident), note=reason, now=now)
    alert_staff(session, ticket, "reopened")
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
    move(session, ticket, "closed", "rated", resident_actor(resident), note=rating.comment, data=scores, now=now)
    return rating


def follow(session: Session, ticket: Ticket, resident: Resident, now: datetime | None = None) -> bool:
    """Add a resident as a follower of a neighbour's shared-area report; False when already following or
    it is their own household's. A ticket not offered to them (another building, a home) is not found."""
    if in_reporters_household(ticket, resident):
        return False
    if not may_follow(ticket, resident):
        raise NotFound("没有找到这张单子", code="ticket_not_found")
    found = session.scalar(select(TicketFollower).where(TicketFollower.ticket_id == ticket.id,
                                                        TicketFollower.resident_id == resident.id))
    if found is not None:
        return False
    ticket.followers.append(TicketFollower(resident_id=resident.id, created_at=now or utcnow()))
    record_event(session, ticket, "followed", resident_actor(resident), note="同一问题的其他住户加入关注", now=now)
    session.flush()
    return True
