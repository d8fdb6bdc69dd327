"""The 15-minute life circle: merchants near a community, their coupons, residents' claims and redemptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import db

MERCHANT_STATUSES = ("active", "suspended", "closed")
STATUS_LABELS = {"active": "营业中", "suspended": "暂停合作", "closed": "已关店"}
CLAIM_STATUSES = ("issued", "redeemed")


class Merchant(db.Model):
    """A shop or service near the community: what it is, where, how far on foot from the gate, its hours."""

    __tablename__ = "merchant"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(30))  # 修鞋, 水果店, 理发, 药店 ...
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)  # other words residents use for it
    address: Mapped[str] = mapped_column(String(120), default="")
    walk_minutes: Mapped[int] = mapped_column(default=5)  # on foot from the community's gate
    opens: Mapped[str] = mapped_column(String(5), default="08:00")  # HH:MM Shanghai
    closes: Mapped[str] = mapped_column(String(5), default="20:00")  # earlier than opens: past midnight
    rest_weekday: Mapped[int | None]  # closed on this weekday (0 = Monday)
    phone: Mapped[str] = mapped_column(String(20), default="")
    licence_no: Mapped[str] = mapped_column(String(40), default="")
    licence_verified: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="active")
    redeem_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # the redeem link; None = revoked
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Coupon(db.Model):
    """An offer from a merchant: a stock of claims and a per-resident limit."""

    __tablename__ = "coupon"
    __table_args__ = (CheckConstraint("claimed >= 0 AND claimed <= stock", name="stock"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    value_cents: Mapped[int] = mapped_column(default=0)  # what the community settles per redemption
    stock: Mapped[int] = mapped_column(default=100)
    claimed: Mapped[int] = mapped_column(default=0)
    per_resident: Mapped[int] = mapped_column(default=1)
    valid_until: Mapped[datetime | None]  # naive UTC
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    merchant: Mapped[Merchant] = relationship()


class CouponClaim(db.Model):
    """A resident's coupon: redeemed once at the shop with a short-lived code."""

    __tablename__ = "coupon_claim"
    __table_args__ = (Index("ix_coupon_claim_merchant_id_code", "merchant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupon.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchant.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="issued")
    code: Mapped[str | None] = mapped_column(String(6))
    code_expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    redeemed_at: Mapped[datetime | None]

    coupon: Mapped[Coupon] = relationship()
