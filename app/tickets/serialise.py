"""A ticket as JSON, one shape for every door: the list line, the detail, and what the reader may do.

The mini-program (a resident) and the console (staff) both build on summary() and detail();
each adds only what belongs to its reader.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Resident
from app.tickets.models import Ticket, TicketRating
from app.tickets.records import CANCELLABLE, CATEGORY_LABELS, KIND_LABELS, STATUS_LABELS, can_reopen
from app.tickets.sla import sla_state
from app.tickets.tickets import in_reporters_household


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def mask_name(name: str) -> str:
    """A resident's name as neighbours see it: the surname and a star (王阿姨 -> 王*)."""
    return f"{name[:1]}*" if name else ""


def timeline(ticket: Ticket, *, mask_residents: bool = False) -> list[dict]:
    """The ticket's events as plain dicts, oldest first; mask_residents: residents' names as neighbours see them."""
    def name(e) -> str:
        return mask_name(e.actor_name) if mask_residents and e.actor_kind == "resident" else e.actor_name

    return [{"kind": e.kind, "from": e.from_status, "to": e.to_status, "actor": e.actor_kind,
             "actor_name": name(e), "note": e.note, "at": _iso(e.created_at)} for e in ticket.events]


def summary(ticket: Ticket) -> dict:
    """A ticket in a list."""
    return {
        "id": ticket.id, "number": ticket.number, "kind": ticket.kind, "kind_label": KIND_LABELS[ticket.kind],
        "category": ticket.category, "category_label": CATEGORY_LABELS.get(ticket.category, "其他"),
        "status": ticket.status, "status_label": STATUS_LABELS[ticket.status], "priority": ticket.priority,
        "place": ticket.place, "description": ticket.description, "created_at": _iso(ticket.created_at),
    }


def detail(ticket: Ticket, *, mask_residents: bool = False) -> dict:
    """A ticket with its outcome, worker, photos and timeline."""
    return {
        **summary(ticket), "outcome": ticket.outcome, "outcome_reason": ticket.outcome_reason,
        "assignee": ticket.assignee.name if ticket.assignee else None,
        "photos": [{"url": p.url, "stage": p.stage} for p in ticket.photos],
        "timeline": timeline(ticket, mask_residents=mask_residents),
    }


def for_resident(session: Session, ticket: Ticket, resident: Resident, now: datetime) -> dict:
    """The detail as a resident sees it, with what they may do now and their rating. A follower (a
    neighbour) reads it with residents' names masked and may do nothing to it."""
    rated = ticket.resolved_at is not None  # a rating needs a resolved ticket: a new one has none to read
    rating = session.scalar(select(TicketRating).where(TicketRating.ticket_id == ticket.id)) if rated else None
    mine = ticket.resident_id == resident.id
    household = in_reporters_household(ticket, resident)
    return {
        **detail(ticket, mask_residents=not household),
        "can_cancel": household and ticket.status in CANCELLABLE,
        "can_rate": mine and ticket.status == "resolved",
        "can_reopen": household and can_reopen(ticket, now),
        "rating": ({"overall": rating.overall, "speed": rating.speed, "attitude": rating.attitude,
                    "comment": rating.comment} if rating else None),
    }


def for_staff(ticket: Ticket, now: datetime, *, full: bool = False) -> dict:
    """A ticket in the staff queue (with its SLA and dispatch); full: the detail and the reporter, phone masked."""
    body = {
        **(detail(ticket) if full else summary(ticket)),
        "assignee_id": ticket.assignee_id, "assignee": ticket.assignee.name if ticket.assignee else None,
        "dispatch_mode": ticket.dispatch_mode, "sla": sla_state(ticket, now), "sla_due_at": _iso(ticket.sla_due_at),
    }
    if full:
        body["resident"] = {"name": ticket.resident.name, "phone": ticket.resident.masked_phone}
    return body
