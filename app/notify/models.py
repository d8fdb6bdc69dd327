"""Notifications to residents, their preferences, and mini-program subscribe grants."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import db

# activities | health | property can be muted by the resident; safety (alerts) and service
# (answers about the resident's own ticket, booking or wish, staff replies) cannot.
CATEGORIES = ("activities", "health", "property", "safety", "service")
MUTABLE_CATEGORIES = ("activities", "health", "property")
NOTIFICATION_STATUSES = ("queued", "digest", "sent", "failed", "skipped", "muted")


class Notification(db.Model):
    """One message for one resident, from any feature; delivered by app.notify.jobs."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_resident_id_local_day", "resident_id", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(default=False)
    template: Mapped[str | None] = mapped_column(String(40))  # key into notify.TEMPLATES
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # template fields, e.g. {"thing1": "..."}
    link: Mapped[str | None] = mapped_column(String(300))  # mini-program page or web URL
    status: Mapped[str] = mapped_column(String(10), default="queued")
    channel: Mapped[str | None] = mapped_column(String(10))  # custom | subscribe | template
    reason: Mapped[str | None] = mapped_column(String(200))  # why failed / skipped / deferred
    local_day: Mapped[date]  # the Asia/Shanghai day it is (to be) delivered, for the digest count
    deliver_at: Mapped[datetime | None]  # naive UTC; set when quiet hours deferred it
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class NotificationPreference(db.Model):
    """A resident's choices: categories muted, and whether quiet hours apply."""

    __tablename__ = "notification_preference"

    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True)
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    quiet_hours: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SubscribeGrant(db.Model):
    """How many sends of one mini-program subscribe template a resident has granted and not used."""

    __tablename__ = "subscribe_grant"
    __table_args__ = (UniqueConstraint("resident_id", "template_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    template_id: Mapped[str] = mapped_column(String(64))
    remaining: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
