"""The pending bindings of WeChat users to rooms, and the mini-program's server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Resident
from app.core.clock import utcnow
from app.core.db import db


class Binding(db.Model):
    """A WeChat user asking to be recognised as a roster resident."""

    __tablename__ = "binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # oa | wxa
    openid: Mapped[str] = mapped_column(String(64), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    code: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | confirmed | rejected | expired
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    resident: Mapped[Resident | None] = relationship()


class MiniProgramSession(db.Model):
    """The session_key WeChat gave for a mini-program user; it never leaves the server."""

    __tablename__ = "wxa_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64))
    session_key: Mapped[str] = mapped_column(String(128))
    token_version: Mapped[int] = mapped_column(default=1, server_default="1")  # bump: earlier tokens stop working
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
