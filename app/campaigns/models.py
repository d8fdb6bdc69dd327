"""Campaigns (one message to an audience) and their deliveries, one per resident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import db

CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")
DELIVERY_STATUSES = ("queued", "sending", "sent", "failed", "skipped")


class Campaign(db.Model):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20), default="activities")
    audience: Mapped[str] = mapped_column(Text)  # an audience expression, app.campaigns.audience
    body: Mapped[str] = mapped_column(Text)  # with {name} and {building}
    template: Mapped[str] = mapped_column(String(40), default="notice")  # key into notify.TEMPLATES
    link: Mapped[str | None] = mapped_column(String(300))
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    scheduled_at: Mapped[datetime | None]  # naive UTC
    total: Mapped[int] = mapped_column(default=0)  # deliveries created so far
    fanout_done: Mapped[bool] = mapped_column(default=False)  # every audience page has its deliveries
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class Delivery(db.Model):
    """The campaign's message to one resident: claimed before it is sent, so a rerun never sends twice."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("campaign_id", "resident_id"),
        Index("ix_delivery_campaign_id_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    channel: Mapped[str | None] = mapped_column(String(10))  # custom | subscribe | template
    reason: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None]
