"""Welfare (独居老人关怀): who is watched and with whose consent, the signs of life last seen, the checks
raised when the signs stop, their timeline, and the device work orders opened for faulty locks and meters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Resident, Staff
from app.core.clock import utcnow
from app.core.db import db
from app.core.timeline import TimelineEvent

DEFAULT_THRESHOLD_HOURS = 7 * 24
MODES = ("normal", "away", "hospital", "visit")
RISKS = ("normal", "high")
# signals a household may have: its devices (by Device.kind) and what the resident does themselves
DEVICE_SIGNALS = ("door_lock", "water_meter", "power_meter", "card_reader")
PERSON_SIGNALS = ("chat", "checkin")
SIGNALS = DEVICE_SIGNALS + PERSON_SIGNALS
CHECK_STATUSES = ("open", "closed")
OUTCOMES = ("safe", "needs_help", "unreachable", "activity")  # activity: a sign of life came before anyone went
LEVELS = ("steward", "grid_worker", "family")


class WelfareWatch(db.Model):
    """One resident living alone who (or whose family) agreed to be watched for signs of life."""

    __tablename__ = "welfare_watch"
    __table_args__ = (
        UniqueConstraint("resident_id"),
        Index("ix_welfare_watch_due", "active", "due_at"),
        Index("ix_welfare_watch_community_building", "community_id", "building"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    building: Mapped[str] = mapped_column(String(20), default="")  # 30 (幢), for the steward's scope
    # consent: who agreed, when, for whom (self, or a family member on the resident's behalf)
    consent_by: Mapped[str] = mapped_column(String(50))
    consent_relation: Mapped[str] = mapped_column(String(10), default="self")  # self | family
    consent_phone: Mapped[str | None] = mapped_column(String(20))
    consented_at: Mapped[datetime]
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # the registered family contact, told last when nobody acknowledges a check
    family_name: Mapped[str | None] = mapped_column(String(50))
    family_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    threshold_hours: Mapped[int] = mapped_column(default=DEFAULT_THRESHOLD_HOURS)
    risk: Mapped[str] = mapped_column(String(10), default="normal")  # normal | high
    signals: Mapped[list[str]] = mapped_column(JSON, default=list)  # which of SIGNALS count for this person
    lift_card: Mapped[str | None] = mapped_column(String(32), index=True)  # the card number a swipe names
    mode: Mapped[str] = mapped_column(String(10), default="normal")  # normal | away | hospital | visit
    mode_until: Mapped[datetime | None] = mapped_column(index=True)
    mode_set_by: Mapped[str] = mapped_column(String(60), default="")
    last_activity_at: Mapped[datetime]
    last_activity_kind: Mapped[str] = mapped_column(String(20), default="")
    timer_from: Mapped[datetime]  # the later of the last sign of life and the end of the last away/visit
    due_at: Mapped[datetime | None]  # when a check is raised; None while one is open or the watch pauses
    false_alarms: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    resident: Mapped[Resident] = relationship()
    consent_recorded_by: Mapped[Staff | None] = relationship()
    found_signals: Mapped[list[WelfareSignal]] = relationship(back_populates="watch", order_by="WelfareSignal.kind",
                                                              cascade="all, delete-orphan")


class WelfareSignal(db.Model):
    """When one kind of sign of life (door opened, water used, a chat message ...) was last seen for a watch."""

    __tablename__ = "welfare_signal"
    __table_args__ = (UniqueConstraint("watch_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("welfare_watch.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # one of SIGNALS
    last_at: Mapped[datetime | None]  # the last time it showed a sign of life
    last_value: Mapped[float | None] = mapped_column(Float)  # a meter's last reading (use = it went up enough)
    last_reading_at: Mapped[datetime | None]
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))  # where it came from

    watch: Mapped[WelfareWatch] = relationship(back_populates="found_signals")


class WelfareCheck(db.Model):
    """A check raised because a watched resident showed no sign of life for longer than their threshold."""

    __tablename__ = "welfare_check"
    __table_args__ = (
        Index("ix_welfare_check_watch_status", "watch_id", "status"),
        Index("ix_welfare_check_community_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    watch_id: Mapped[int] = mapped_column(ForeignKey("welfare_watch.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    building: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    level: Mapped[int] = mapped_column(default=0)  # 0 steward, 1 grid worker, 2 family contact
    crossed_at: Mapped[datetime]  # when the threshold was crossed
    raised_at: Mapped[datetime]
    notified_at: Mapped[datetime | None]  # when the first staff member was told (card sent or queued for the console)
    escalated_at: Mapped[datetime | None]  # the last move up a level
    silent: Mapped[list[dict]] = mapped_column(JSON, default=list)  # [{"kind": "door_lock", "since": iso}]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(20))  # safe | needs_help | unreachable | activity
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(100))  # a stored photo's file name
    closed_at: Mapped[datetime | None]

    watch: Mapped[WelfareWatch] = relationship()
    resident: Mapped[Resident] = relationship()
    acknowledged_by: Mapped[Staff | None] = relationship()
    entries: Mapped[list[WelfareCheckEntry]] = relationship(order_by="WelfareCheckEntry.id",
                                                            cascade="all, delete-orphan")


class WelfareCheckEntry(TimelineEvent, db.Model):
    """One line of a check's timeline: raised, notified (whom, how), escalated, acknowledged, outcome."""

    __tablename__ = "welfare_check_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("welfare_check.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class WelfareDeviceOrder(db.Model):
    """A work order (a repair ticket) opened once for a watched household's faulty device, not every hour."""

    __tablename__ = "welfare_device_order"
    __table_args__ = (Index("ix_welfare_device_order_device_open", "device_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("welfare_watch.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    problem: Mapped[str] = mapped_column(String(20))  # offline | low_battery
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]  # the device works again
