"""Repairs and complaints (报事报修): the ticket, its timeline, photos, followers, rating, routing rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Household, Resident, Staff
from app.core.clock import utcnow
from app.core.db import db
from app.core.timeline import TimelineEvent

KINDS = ("repair", "complaint")
REPAIR_CATEGORIES = ("elevator", "water", "power", "lighting", "door", "gas", "facility", "other")
COMPLAINT_CATEGORIES = ("noise", "falling_object", "parking", "sanitation", "pets", "service", "other")
STATUSES = ("submitted", "accepted", "assigned", "in_progress", "resolved", "closed", "reopened", "cancelled")
OPEN_STATUSES = ("submitted", "accepted", "assigned", "in_progress", "reopened")
OUTCOMES = ("fixed", "not_fixed", "not_ours")
PRIORITIES = ("normal", "urgent")
DISPATCH_MODES = ("assign", "grab", "rotation")  # rotation = 轮派, see app/services/ticket_rotation.py


class Ticket(db.Model):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_community_status", "community_id", "status"),
        Index("ix_ticket_dup", "community_id", "building", "category", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # BX2611240012, set after insert
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # repair | complaint
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    outcome: Mapped[str | None] = mapped_column(String(20))  # fixed | not_fixed | not_ours
    outcome_reason: Mapped[str | None] = mapped_column(String(300))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(20))
    room: Mapped[str | None] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(200), default="")  # the location in words, as shown
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="oa")  # oa | wxa | console
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    dispatch_mode: Mapped[str] = mapped_column(String(10), default="assign")  # assign | grab | rotation
    sla_due_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident] = relationship()
    household: Mapped[Household | None] = relationship()
    assignee: Mapped[Staff | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id",
                                                     cascade="all, delete-orphan")
    photos: Mapped[list[TicketPhoto]] = relationship(order_by="TicketPhoto.id", cascade="all, delete-orphan")
    followers: Mapped[list[TicketFollower]] = relationship(order_by="TicketFollower.id",
                                                           cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        """Whether staff still have something to do."""
        return self.status in OPEN_STATUSES


class TicketEvent(TimelineEvent, db.Model):
    """One line of a ticket's timeline (created, accepted, assigned, progress, resolved, ...): the shared
    timeline columns, and data for what a kind of event carries."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketPhoto(db.Model):
    __tablename__ = "ticket_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(10), default="report")  # report | before | after
    url: Mapped[str] = mapped_column(String(500))
    media_id: Mapped[str | None] = mapped_column(String(128))
    added_by_kind: Mapped[str] = mapped_column(String(10), default="resident")
    added_by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketFollower(db.Model):
    """A resident who joined someone else's report of the same problem and gets its updates."""

    __tablename__ = "ticket_follower"
    __table_args__ = (UniqueConstraint("ticket_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketRating(db.Model):
    __tablename__ = "ticket_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    overall: Mapped[int]
    speed: Mapped[int]
    attitude: Mapped[int]
    comment: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RotationTurn(db.Model):
    """When rotation (轮派) last chose a worker: one row per worker, so the next turn is a key lookup, not a
    scan of every ticket's timeline (which grows without end)."""

    __tablename__ = "rotation_turn"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    turn: Mapped[int]  # rises with every choice in the community: the lowest is the one whose turn it is


class RoutingRule(db.Model):
    """Who gets a new ticket: by kind, category and building (empty = any), first match by position."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[str | None] = mapped_column(String(10))
    category: Mapped[str | None] = mapped_column(String(20))
    building: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10), default="assign")  # assign | grab | rotation (轮派)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # the assignee in assign mode
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    staff: Mapped[Staff | None] = relationship()
