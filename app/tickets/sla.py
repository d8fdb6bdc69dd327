"""The SLA clock of a ticket: accept within 30 min when urgent, 4 h otherwise (configurable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.tickets.models import Ticket

UNACCEPTED = ("submitted", "reopened")
AUTO_CLOSE_AFTER = timedelta(days=7)  # a resolved ticket nobody rated or reopened closes itself


@dataclass(frozen=True)
class SlaPolicy:
    """Minutes staff have to accept a ticket, by priority."""

    urgent_minutes: int = 30
    normal_minutes: int = 240

    def due(self, start: datetime, priority: str) -> datetime:
        """When a ticket opened at `start` must be accepted."""
        minutes = self.urgent_minutes if priority == "urgent" else self.normal_minutes
        return start + timedelta(minutes=minutes)


DEFAULT_SLA = SlaPolicy()


def sla_policy(config: Mapping[str, Any]) -> SlaPolicy:
    """The policy from config keys TICKET_SLA_URGENT_MINUTES / TICKET_SLA_NORMAL_MINUTES."""
    return SlaPolicy(int(config.get("TICKET_SLA_URGENT_MINUTES") or DEFAULT_SLA.urgent_minutes),
                     int(config.get("TICKET_SLA_NORMAL_MINUTES") or DEFAULT_SLA.normal_minutes))


def breached(session: Session, now: datetime, limit: int = 200) -> list[Ticket]:
    """Unaccepted tickets past their due time that were not escalated yet, oldest due first."""
    return list(session.scalars(
        select(Ticket).where(Ticket.status.in_(UNACCEPTED), Ticket.sla_due_at <= now,
                             Ticket.escalated_at.is_(None))
        .order_by(Ticket.sla_due_at).limit(limit)
    ))


def stale_resolved(session: Session, now: datetime, limit: int = 200) -> list[Ticket]:
    """Resolved tickets whose 7-day window to rate or reopen has passed."""
    return list(session.scalars(
        select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= now - AUTO_CLOSE_AFTER)
        .order_by(Ticket.resolved_at).limit(limit)
    ))


def sla_state(ticket: Ticket, now: datetime) -> str:
    """For the staff queue: met | breached | due_soon | ok | none."""
    if ticket.sla_due_at is None:
        return "none"
    if ticket.accepted_at is not None and ticket.status not in UNACCEPTED:
        return "met" if ticket.accepted_at <= ticket.sla_due_at else "late"
    if now >= ticket.sla_due_at:
        return "breached"
    if ticket.sla_due_at - now <= timedelta(minutes=30):
        return "due_soon"
    return "ok"
