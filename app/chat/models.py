"""Conversations per WeChat user and channel, and the log of every message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Resident
from app.core.clock import utcnow
from app.core.db import db

STAFF_HELD = ("waiting_for_staff", "with_staff")  # conversation states in which the bot stays silent


class Conversation(db.Model):
    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # oa (official account) | wxa (mini-program)
    openid: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="bot")  # bot | waiting_for_staff | with_staff | resolved
    dialog: Mapped[dict] = mapped_column(JSON, default=dict)  # the open flow, its slots and re-ask count
    last_inbound_at: Mapped[datetime | None]  # starts WeChat's 48 h customer-service window
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident | None] = relationship()


class Message(db.Model):
    """One message in or out; inbound ones carry the dedup key of WeChat's retries."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    msg_type: Mapped[str] = mapped_column(String(20))
    dedup_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    wechat_msg_id: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str | None] = mapped_column(Text)  # the synchronous answer, replayed on retries
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    delivery: Mapped[str | None] = mapped_column(String(20))  # outbound: queued | sent | failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SeenNonce(db.Model):
    """A signed /wechat query seen while Redis was down (the replay guard's fallback): its nonce,
    timestamp and signature, hashed, with the hash of the body that came with it."""

    __tablename__ = "seen_nonce"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
