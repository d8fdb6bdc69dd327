"""Residents, staff, and the pending bindings of WeChat users to rooms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.community import Household
from app.models.tags import Tag
from app.timeutil import utcnow

RESIDENT_ROLES = ("owner", "tenant", "family")
STAFF_ROLES = ("admin", "property", "repair_worker", "doctor", "committee")


class Resident(db.Model):
    __tablename__ = "resident"
    __table_args__ = (UniqueConstraint("community_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    birth_year: Mapped[int | None]
    role: Mapped[str] = mapped_column(String(10), default="owner")
    oa_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wxa_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | moved_out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    household: Mapped[Household | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary="resident_tag")

    @property
    def masked_phone(self) -> str:
        """The phone with its middle hidden, for anything shown to others."""
        return self.phone[:3] + "****" + self.phone[-4:] if len(self.phone) >= 7 else "****"


class Staff(db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    building_scope: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty = whole community
    wecom_userid: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def covers_building(self, number: str) -> bool:
        """Whether this staff member's scope includes a building."""
        return not self.building_scope or number in self.building_scope


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
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
