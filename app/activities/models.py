"""Interest clubs (兴趣社团) and their members, activities (one-off or a club's session) and sign-ups.

Seats: Activity.taken counts the sign-ups holding a seat (confirmed, or offered to a promoted resident
until their deadline); it only moves through conditional UPDATEs, and a CHECK keeps it within capacity.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Resident, Staff
from app.core.clock import utcnow
from app.core.db import db

MEMBER_ROLES = ("organiser", "assistant", "member")
ROLE_LABELS = {"organiser": "负责人", "assistant": "助理", "member": "成员"}
SIGNUP_STATUSES = ("confirmed", "waiting", "offered", "cancelled", "expired")
SEAT_STATUSES = ("confirmed", "offered")  # a sign-up in one of these holds a seat
ACTIVE_SIGNUP = ("confirmed", "waiting", "offered")
STATUS_LABELS = {"confirmed": "已报名", "waiting": "候补中", "offered": "候补转正待确认", "cancelled": "已取消",
                 "expired": "未按时确认"}
SOURCES = ("oa", "wxa", "steward", "console")


class Club(db.Model):
    """An interest club: who runs it, and its recurring session (weekly or fortnightly) if it has one."""

    __tablename__ = "club"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    organiser_resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="SET NULL"))
    organiser_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # the recurring session: every `every_weeks` weeks (0 = none) on `weekday` at `session_time`
    every_weeks: Mapped[int] = mapped_column(default=0)
    weekday: Mapped[int] = mapped_column(default=0)  # 0 = Monday
    session_time: Mapped[str] = mapped_column(String(5), default="09:00")  # HH:MM Shanghai
    session_minutes: Mapped[int] = mapped_column(default=90)
    place: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int] = mapped_column(default=0)  # each session's seats; 0 = unlimited
    first_day: Mapped[date | None]  # fortnightly sessions count their weeks from here
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organiser_resident: Mapped[Resident | None] = relationship()
    organiser_staff: Mapped[Staff | None] = relationship()

    @property
    def organiser_name(self) -> str:
        """Who runs the club, as residents see it."""
        if self.organiser_resident is not None:
            return self.organiser_resident.name
        return self.organiser_staff.name if self.organiser_staff is not None else "社区"


class ClubMember(db.Model):
    """A resident in a club, with a role; leaving keeps the row (left_at)."""

    __tablename__ = "club_member"
    __table_args__ = (UniqueConstraint("club_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10), default="member")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    resident: Mapped[Resident] = relationship()
    club: Mapped[Club] = relationship()


class Activity(db.Model):
    """One activity: a time, a place and seats (capacity 0 = unlimited); one-off or a club's session."""

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint("taken >= 0 AND (capacity = 0 OR taken <= capacity)", name="seats"),
        UniqueConstraint("club_id", "starts_at"),
        Index("ix_activity_community_id_starts_at", "community_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    club_id: Mapped[int | None] = mapped_column(ForeignKey("club.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(100), default="")
    starts_at: Mapped[datetime]  # naive UTC
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(default=0)
    taken: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | cancelled
    checkin_code: Mapped[str] = mapped_column(String(6), default="")
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    club: Mapped[Club | None] = relationship()

    @property
    def seats_left(self) -> int | None:
        """Free seats; None when unlimited."""
        return None if self.capacity == 0 else max(self.capacity - self.taken, 0)


class Signup(db.Model):
    """A resident's sign-up for an activity: confirmed, waiting, offered a freed seat, cancelled or expired."""

    __tablename__ = "activity_signup"
    __table_args__ = (
        UniqueConstraint("activity_id", "resident_id"),
        Index("ix_activity_signup_activity_id_status", "activity_id", "status"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10), default="wxa")
    signed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # the waitlist's order
    offer_expires_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[str | None] = mapped_column(String(10))  # code | staff
    reminded_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity] = relationship()
    resident: Mapped[Resident] = relationship()
    signed_by: Mapped[Staff | None] = relationship()
