"""Staff side of tickets: accept, assign, grab (抢单), progress, resolve, alerts, scope and queue.

Routing a new ticket by the rules is in routing.py; rotation (轮派) in rotation.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.outbox import enqueue
from app.tickets.models import OPEN_STATUSES, OUTCOMES, Ticket
from app.tickets.records import (
    KIND_LABELS,
    MAX_NOTE,
    OUTCOME_LABELS,
    SYSTEM,
    Actor,
    add_photo,
    get_ticket,
    move,
    record_event,
    staff_actor,
)

TICKET_ROLES = ("admin", "property", "repair_worker")
SUPERVISOR_ROLES = ("admin",)
ALERT_JOB = "app.tickets.jobs.alert_staff"
ACCEPTABLE = ("submitted", "reopened")
ASSIGNABLE = ("submitted", "reopened", "accepted", "assigned", "in_progress")
GRABBABLE = ("submitted", "reopened", "accepted")
WORKING = ("accepted", "assigned", "in_progress")
DISPATCH_LABELS = {"assign": "指派", "grab": "抢单", "rotation": "轮派"}


def alert_staff(session: Session, ticket: Ticket, reason: str) -> None:
    """Tell staff about a ticket after commit (WeChat Work when configured; the console shows it anyway)."""
    enqueue(session, ALERT_JOB, ticket.id, reason, queue="high" if reason in ("urgent", "escalated") else "default")


def in_scope(staff: Staff, ticket: Ticket) -> bool:
    """Whether a staff member may see and act on a ticket (role, community and building scope)."""
    if staff.role not in TICKET_ROLES or staff.community_id != ticket.community_id:
        return False
    if ticket.assignee_id == staff.id:
        return True
    return ticket.building is None or staff.covers_building(ticket.building)


def ticket_for_staff(session: Session, ticket_id: int, staff: Staff) -> Ticket:
    """A ticket in the staff member's scope; others are not found."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not in_scope(staff, ticket):
        raise NotFound("没有找到这张单子，或不在您的负责范围", code="ticket_not_found")
    return ticket


def queue(session: Session, staff: Staff, *, status: str | None = None, limit: int = 200) -> list[Ticket]:
    """Tickets in scope, urgent and soonest-due first; status 'open' (default), 'mine', or one status."""
    query = select(Ticket).where(Ticket.community_id == staff.community_id)
    if status in (None, "", "open"):
        query = query.where(Ticket.status.in_((*OPEN_STATUSES,)))
    elif status == "mine":
        query = query.where(Ticket.assignee_id == staff.id, Ticket.status.in_(OPEN_STATUSES))
    elif status == "all":
        pass
    else:
        query = query.where(Ticket.status == status)
    if staff.building_scope:
        query = query.where((Ticket.building.is_(None)) | (Ticket.building.in_(staff.building_scope))
                            | (Ticket.assignee_id == staff.id))
    urgent_first = case((Ticket.priority == "urgent", 0), else_=1)
    query = query.order_by(urgent_first, Ticket.sla_due_at, Ticket.id).limit(limit)
    return list(session.scalars(query))


def _staff_ticket(session: Session, ticket_id: int, staff: Staff) -> Ticket:
    if staff.role not in TICKET_ROLES:
        raise Forbidden("您的岗位不处理报修投诉", code="role_forbidden")
    return ticket_for_staff(session, ticket_id, staff)


def _note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"说明请不要超过 {MAX_NOTE} 个字", code="note_too_long")
    return note


def accept(session: Session, ticket_id: int, staff: Staff, note: str = "", now: datetime | None = None) -> Ticket:
    """Staff accept (受理) a new or reopened ticket: the SLA clock stops."""
    now = now or utcnow()
    ticket = _staff_ticket(session, ticket_id, staff)
    if ticket.status not in ACCEPTABLE:
        raise Conflict("这张单子已经受理过了", code="already_accepted")
    ticket.accepted_at = now
    move(session, ticket, "accepted", "accepted", staff_actor(staff), note=_note(note), now=now,
          tell=f"您的{_short(ticket)}已受理，工作人员会尽快安排处理。")
    return ticket


def assign(session: Session, ticket_id: int, staff: Staff, assignee_id: int, note: str = "",
           now: datetime | None = None) -> Ticket:
    """Dispatch (派单) or transfer (转单) a ticket to a staff member who covers its building."""
    now = now or utcnow()
    ticket = _staff_ticket(session, ticket_id, staff)
    if ticket.status not in ASSIGNABLE:
        raise Conflict("这张单子已经处理完了，不能再派单", code="not_assignable")
    assignee = session.get(Staff, assignee_id)
    if assignee is None or not assignee.active or assignee.community_id != ticket.community_id \
            or assignee.role not in TICKET_ROLES:
        raise ValidationFailed("请选择本小区负责报修的工作人员", code="bad_assignee")
    if ticket.building and not assignee.covers_building(ticket.building):
        raise ValidationFailed(f"{assignee.name}不负责{ticket.building}幢", code="assignee_out_of_scope")
    return hand_over(session, ticket, assignee, staff_actor(staff), note=_note(note), now=now)


def hand_over(session: Session, ticket: Ticket, assignee: Staff, actor: Actor, *, mode: str = "assign",
              note: str = "", data: dict | None = None, now: datetime) -> Ticket:
    """Give a ticket to a checked assignee: status assigned, timeline, the resident told, the assignee alerted."""
    if ticket.accepted_at is None:
        ticket.accepted_at = now
    kind = "transferred" if ticket.assignee_id not in (None, assignee.id) and ticket.status in WORKING else "assigned"
    ticket.assignee_id = assignee.id
    ticket.assignee = assignee  # the object too: a reply naming the worker need not load them again
    ticket.dispatch_mode = mode
    move(session, ticket, "assigned", kind, actor, note=note,
          data={"assignee_id": assignee.id, "assignee": assignee.name, **(data or {})}, now=now,
          tell=f"您的{_short(ticket)}已派给{assignee.name}处理。")
    alert_staff(session, ticket, "assigned")
    return ticket


def grab(session: Session, ticket_id: int, staff: Staff, now: datetime | None = None) -> Ticket:
    """A worker takes (抢单) an unassigned ticket from the pool; the first one wins."""
    now = now or utcnow()
    ticket = _staff_ticket(session, ticket_id, staff)
    if ticket.assignee_id is not None or ticket.status not in GRABBABLE:
        raise Conflict("这张单子已经被别人接了", code="already_taken")
    taken = session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.assignee_id.is_(None))
                            .values(assignee_id=staff.id).execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # another worker's grab committed first
        raise Conflict("这张单子已经被别人接了", code="already_taken")
    ticket.assignee_id = staff.id
    if ticket.accepted_at is None:
        ticket.accepted_at = now
    move(session, ticket, "assigned", "grabbed", staff_actor(staff), data={"assignee_id": staff.id}, now=now,
          tell=f"您的{_short(ticket)}已由{staff.name}接单处理。")
    return ticket


def progress(session: Session, ticket_id: int, staff: Staff, note: str, *, photos: list[str] | None = None,
             now: datetime | None = None) -> Ticket:
    """Report work under way (上门/维修中) with a note and optional before-photos."""
    now = now or utcnow()
    ticket = _staff_ticket(session, ticket_id, staff)
    if ticket.status not in WORKING:
        raise Conflict("请先受理或派单", code="not_in_progress")
    note = _note(note)
    if not note:
        raise ValidationFailed("请写一下处理进展", code="note_required")
    if ticket.accepted_at is None:
        ticket.accepted_at = now
    for url in photos or []:
        add_photo(session, ticket, url=url, stage="before", actor=staff_actor(staff), now=now)
    move(session, ticket, "in_progress", "progress", staff_actor(staff), note=note, now=now,
          tell=f"您的{_short(ticket)}有新进展：{note}")
    return ticket


def resolve(session: Session, ticket_id: int, staff: Staff, *, outcome: str, note: str = "",
            photos: list[str] | None = None, now: datetime | None = None) -> Ticket:
    """Finish the work: fixed, not fixed or not ours (the last two need a reason); asks the resident to rate."""
    now = now or utcnow()
    ticket = _staff_ticket(session, ticket_id, staff)
    if ticket.status not in (*WORKING, "submitted", "reopened"):
        raise Conflict("这张单子已经处理完了", code="already_resolved")
    if outcome not in OUTCOMES:
        raise ValidationFailed("处理结果只能是：已修好、未能修好、不属于物业", code="bad_outcome")
    note = _note(note)
    if outcome != "fixed" and not note:
        raise ValidationFailed("未修好或不属于物业处理时，请写明原因", code="reason_required")
    for url in photos or []:
        add_photo(session, ticket, url=url, stage="after", actor=staff_actor(staff), now=now)
    ticket.accepted_at = ticket.accepted_at or now
    ticket.outcome, ticket.outcome_reason, ticket.resolved_at = outcome, note or None, now
    reason = f"（{note}）" if note else ""
    move(session, ticket, "resolved", "resolved", staff_actor(staff), note=note, data={"outcome": outcome},
          now=now, tell=(f"您的{_short(ticket)}已处理：{OUTCOME_LABELS[outcome]}{reason}。"
                         "请在小程序里为这次服务评分；如果问题还在，7天内可以重新打开。"))
    return ticket


def escalate(session: Session, ticket: Ticket, now: datetime) -> None:
    """An SLA breach: note it on the timeline and alert the supervisors."""
    ticket.escalated_at = now
    record_event(session, ticket, "escalated", SYSTEM, note="超过受理时限，已上报主管", now=now)
    session.flush()
    alert_staff(session, ticket, "escalated")


def auto_close(session: Session, ticket: Ticket, now: datetime) -> None:
    """Close a resolved ticket whose rating window has passed."""
    ticket.closed_at = now
    move(session, ticket, "closed", "closed", SYSTEM, note="7天内未评价或重新打开，自动完结", now=now)


def recipients(session: Session, ticket: Ticket, reason: str) -> list[Staff]:
    """Who hears about a ticket: the assignee, else staff covering its building; supervisors on escalation."""
    staff = list(session.scalars(select(Staff).where(Staff.community_id == ticket.community_id,
                                                     Staff.active.is_(True))))
    if reason == "escalated":
        return [s for s in staff if s.role in SUPERVISOR_ROLES]
    if ticket.assignee_id is not None and reason != "urgent":
        return [s for s in staff if s.id == ticket.assignee_id]
    chosen = [s for s in staff if s.role in ("property", "repair_worker") and in_scope(s, ticket)]
    if reason == "urgent":
        chosen += [s for s in staff if s.role in SUPERVISOR_ROLES and s not in chosen]
    return chosen


def _short(ticket: Ticket) -> str:
    return f"{KIND_LABELS[ticket.kind]}（单号{ticket.number}）"


__all__ = ["accept", "assign", "auto_close", "escalate", "get_ticket", "grab", "hand_over", "in_scope", "progress",
           "queue", "recipients", "resolve", "ticket_for_staff"]
