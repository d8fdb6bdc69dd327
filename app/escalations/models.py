"""Escalations: a conversation handed from the bot to a person, with its SLA, notes and canned replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.chat.models import Conversation
from app.community.models import Resident, Staff
from app.core.clock import utcnow
from app.core.db import db

TRIGGERS = ("human", "fallback", "safety", "takeover")
# withdrawn: the resident went back to the bot (结束人工); timed_out: no word from either side for a long while
STATUSES = ("waiting", "with_staff", "resolved", "withdrawn", "timed_out")  # mirrored on Conversation.state
OPEN_STATUSES = ("waiting", "with_staff")
CLOSED_STATUSES = ("resolved", "withdrawn", "timed_out")


class Escalation(db.Model):
    """One escalation of a conversation to staff; at most one per triggering message."""

    __tablename__ = "escalation"
    __table_args__ = (
        Index("ix_escalation_status_urgent_created", "status", "urgent", "created_at"),
        Index("ix_escalation_assignee_status", "assignee_id", "status"),
        Index("ix_escalation_community_building", "community_id", "building"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    # Copied from the resident when the escalation opens, so the queue filters by scope without joins.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    building: Mapped[str | None] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))  # human | fallback | safety | takeover
    # The inbound message that caused it: unique, so WeChat's retries or a rerun job cannot add a second.
    trigger_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"), unique=True)
    summary: Mapped[str] = mapped_column(String(200), default="")
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    alerted_at: Mapped[datetime | None]  # staff alert claimed (sent once)
    alert_channel: Mapped[str | None] = mapped_column(String(20))  # wecom | console
    first_response_breached_at: Mapped[datetime | None]  # supervisor told (once)
    resolution_breached_at: Mapped[datetime | None]
    satisfaction: Mapped[int | None]  # 1 满意, 2 一般, 3 不满意
    satisfaction_asked_at: Mapped[datetime | None]

    conversation: Mapped[Conversation] = relationship()
    resident: Mapped[Resident | None] = relationship()
    assignee: Mapped[Staff | None] = relationship()

    @property
    def number(self) -> str:
        """The number staff quote (also from WeChat Work): #123."""
        return f"#{self.id}"

    @property
    def is_open(self) -> bool:
        """Whether staff still hold it (waiting or with_staff)."""
        return self.status in OPEN_STATUSES


class EscalationNote(db.Model):
    """An internal note on an escalation; residents never see it."""

    __tablename__ = "escalation_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalation.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[Staff | None] = relationship()


class CannedReply(db.Model):
    """A ready answer staff insert with one tap."""

    __tablename__ = "canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    title: Mapped[str] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
