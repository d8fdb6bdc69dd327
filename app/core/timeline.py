"""The timeline shared by tickets and wishes: who did what, when, from which status to which.

Each feature keeps its own event table (ticket_event, wish_event) with the columns of
TimelineEvent; record() fills them the same way and move() changes a status with its event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.clock import utcnow

MAX_NOTE = 1000


@dataclass(frozen=True)
class Actor:
    """Who made a change: a resident, a staff member, or the system."""

    kind: str
    id: int | None = None
    name: str = ""


SYSTEM = Actor("system", None, "系统")


class Person(Protocol):
    id: int
    name: str


def resident_actor(resident: Person) -> Actor:
    """A resident as the actor of a timeline event."""
    return Actor("resident", resident.id, resident.name)


def staff_actor(staff: Person) -> Actor:
    """A staff member as the actor of a timeline event."""
    return Actor("staff", staff.id, staff.name)


class TimelineEvent:
    """The columns every timeline table has (a mixin for the features' event models)."""

    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor_kind: Mapped[str] = mapped_column(String(10))  # resident | staff | system
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(50), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


E = TypeVar("E", bound=TimelineEvent)


class HasStatus(Protocol):
    status: str
    updated_at: datetime


def record(session: Session, event: E, kind: str, actor: Actor, *, note: str = "", from_status: str | None = None,
           to_status: str | None = None, now: datetime | None = None, max_note: int = MAX_NOTE) -> E:
    """Fill a new event row (its owner's id already set) with what happened and who did it; add it."""
    event.kind, event.from_status, event.to_status = kind, from_status, to_status
    event.actor_kind, event.actor_id, event.actor_name = actor.kind, actor.id, actor.name[:50]
    event.note, event.created_at = (note or "")[:max_note], now or utcnow()
    session.add(event)
    return event


def move(subject: HasStatus, to: str, now: datetime) -> str:
    """Set a ticket's or wish's status (and updated_at); returns the status it had."""
    before = subject.status
    subject.status, subject.updated_at = to, now
    return before
