"""The cockpit's own rows: streets (街道) with their communities and admins, display tokens for wall screens,
and one snapshot of figures per community that a periodic job keeps fresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Community, Staff
from app.core.clock import utcnow
from app.core.db import db


class Street(db.Model):
    """A street office (街道) above several communities."""

    __tablename__ = "cockpit_street"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    communities: Mapped[list[StreetCommunity]] = relationship(cascade="all, delete-orphan",
                                                              order_by="StreetCommunity.community_id")


class StreetCommunity(db.Model):
    """A community belongs to at most one street."""

    __tablename__ = "cockpit_street_community"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("cockpit_street.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), unique=True)

    community: Mapped[Community] = relationship()


class StreetAdmin(db.Model):
    """A staff member who sees every community of a street side by side (staff belong to one community)."""

    __tablename__ = "cockpit_street_admin"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("cockpit_street.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)

    street: Mapped[Street] = relationship()
    staff: Mapped[Staff] = relationship()


class DisplayToken(db.Model):
    """A read-only key for one wall screen: the figures of a community (or a street), never names.

    Only the token's SHA-256 is kept; the token itself is shown once, when it is made."""

    __tablename__ = "cockpit_display_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("cockpit_street.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(60))  # where the screen hangs: 物业大厅大屏
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    @property
    def active(self) -> bool:
        """Whether the screen may still read with it."""
        return self.revoked_at is None


class Snapshot(db.Model):
    """A community's figures as the periodic job last computed them (raw counts; privacy applies when shown)."""

    __tablename__ = "cockpit_snapshot"

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"), primary_key=True)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime]  # naive UTC
    took_ms: Mapped[int] = mapped_column(default=0)
