"""Wishes (心愿): the facility catalogue, residents' wishes, supports, followers, milestones, comments, ratings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Resident
from app.core.clock import utcnow
from app.core.db import db
from app.core.timeline import TimelineEvent

STATUSES = ("collecting", "under_review", "accepted", "rejected", "merged", "in_progress", "completed", "withdrawn")
OPEN_STATUSES = ("collecting", "under_review", "accepted", "in_progress")  # similar-wish search and rankings
# rejected, merged, completed and withdrawn (by its author, app/services/wish_withdraw.py) are closed for good
THRESHOLD_MODES = ("absolute", "share")


class FacilityItem(db.Model):
    """One facility on a community's menu: what it is, what it takes, who it serves, what neighbours think."""

    __tablename__ = "facility_item"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)  # other words residents use for it
    description: Mapped[str] = mapped_column(Text, default="")
    typical_space: Mapped[str] = mapped_column(String(100), default="")  # 约2平方米，室内或有顶棚处
    typical_cost: Mapped[str] = mapped_column(String(100), default="")  # 约1–2万元
    serves: Mapped[str] = mapped_column(String(100), default="")  # 老人、上班族
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    built: Mapped[bool] = mapped_column(default=False)  # exists in the community: open for rating
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WishThreshold(db.Model):
    """How many supports send a wish to the committee: a count, or a share of households (building = None: all)."""

    __tablename__ = "wish_threshold"
    __table_args__ = (UniqueConstraint("community_id", "building"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10), default="absolute")  # absolute | share
    value: Mapped[float] = mapped_column(default=20.0)  # 20 supports, or 0.05 = 5% of households


class Wish(db.Model):
    __tablename__ = "wish"
    __table_args__ = (Index("ix_wish_community_status", "community_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("facility_item.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    building: Mapped[str | None] = mapped_column(String(20))  # a wish for one building (its threshold applies)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="collecting")
    threshold: Mapped[int] = mapped_column(default=20)  # fixed when the wish is made
    supports_count: Mapped[int] = mapped_column(default=0)
    progress: Mapped[int] = mapped_column(default=0)  # percentage from the latest milestone
    reason: Mapped[str] = mapped_column(String(500), default="")  # why rejected or merged; withdrawn: "code: note"
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("wish.id"))
    source: Mapped[str] = mapped_column(String(10), default="oa")  # oa | wxa | console
    reviewing_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    item: Mapped[FacilityItem | None] = relationship()
    resident: Mapped[Resident] = relationship()
    merged_into: Mapped[Wish | None] = relationship(remote_side="Wish.id")
    milestones: Mapped[list[WishMilestone]] = relationship(order_by="WishMilestone.id", cascade="all, delete-orphan")
    comments: Mapped[list[WishComment]] = relationship(order_by="WishComment.id", cascade="all, delete-orphan")
    events: Mapped[list[WishEvent]] = relationship(order_by="WishEvent.id", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        """Still on its way (collecting, under review, accepted or being built)."""
        return self.status in OPEN_STATUSES


class WishSupport(db.Model):
    """One resident's support of a wish; the unique constraint counts a resident once however requests race."""

    __tablename__ = "wish_support"
    __table_args__ = (UniqueConstraint("wish_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    building: Mapped[str | None] = mapped_column(String(20), index=True)  # the supporter's, for per-building rankings
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WishFollower(db.Model):
    """A resident told of every step of a wish (authors and supporters follow automatically)."""

    __tablename__ = "wish_follower"
    __table_args__ = (UniqueConstraint("wish_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WishMilestone(db.Model):
    __tablename__ = "wish_milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)
    percentage: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    staff_name: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WishComment(db.Model):
    __tablename__ = "wish_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    author_name: Mapped[str] = mapped_column(String(50), default="")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WishEvent(TimelineEvent, db.Model):
    """One line of a wish's history (created, under_review, accepted, rejected, merged, milestone, ...)."""

    __tablename__ = "wish_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wish.id", ondelete="CASCADE"), index=True)


class FacilityRating(db.Model):
    """A resident's stars and words for a built facility; one per resident per item, editable."""

    __tablename__ = "facility_rating"
    __table_args__ = (UniqueConstraint("item_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("facility_item.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    stars: Mapped[int]
    text: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident] = relationship()
