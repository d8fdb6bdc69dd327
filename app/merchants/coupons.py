"""Coupons: add, claim (stock and a per-resident limit hold under concurrency), a short-lived 6-digit code to
show at the shop, and redemption that succeeds once only.

Stock: one conditional UPDATE (`claimed < stock`) takes a coupon, and a CHECK keeps claimed <= stock.
Per-resident limit: the resident's row is locked first (FOR NO KEY UPDATE, to commit), so their racing claims
count each other. Redemption: one conditional UPDATE (`status = 'issued' AND code = :code AND not expired`):
of two racing redemptions PostgreSQL lets exactly one change the row; the other sees it redeemed.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.community.models import Resident
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.merchants.models import Coupon, CouponClaim, Merchant

CODE_MINUTES = 10
CODE_LENGTH = 6


def add_coupon(session: Session, merchant: Merchant, *, title: str, value_cents: int, stock: int,
               per_resident: int = 1, description: str = "", valid_until: datetime | None = None) -> Coupon:
    """A new active coupon of a merchant."""
    title = (title or "").strip()
    if not title or len(title) > 60:
        raise ValidationFailed("请填写优惠券名称（60字以内）", code="bad_title")
    if not 1 <= stock <= 100000 or not 1 <= per_resident <= 100 or not 0 <= value_cents <= 10**7:
        raise ValidationFailed("库存、每人限领或面值不对", code="bad_coupon")
    coupon = Coupon(merchant_id=merchant.id, title=title, description=(description or "")[:500],
                    value_cents=value_cents, stock=stock, claimed=0, per_resident=per_resident,
                    valid_until=valid_until, active=True)
    session.add(coupon)
    session.flush()
    return coupon


def coupons_of(session: Session, merchant: Merchant, *, now: datetime | None = None) -> list[Coupon]:
    """A merchant's active coupons still valid."""
    now = now or utcnow()
    return [c for c in session.scalars(select(Coupon).where(Coupon.merchant_id == merchant.id,
                                                            Coupon.active.is_(True)).order_by(Coupon.id))
            if c.valid_until is None or c.valid_until > now]


def get_coupon(session: Session, coupon_id: int, community_id: int) -> Coupon:
    """A coupon of one of the community's merchants, or NotFound."""
    coupon = session.get(Coupon, coupon_id)
    if coupon is None or coupon.merchant.community_id != community_id:
        raise NotFound("没有找到这张优惠券", code="coupon_not_found")
    return coupon


def claim(session: Session, resident: Resident, coupon_id: int, *, now: datetime | None = None) -> CouponClaim:
    """Take one coupon for the resident: refused when out of stock or at their limit."""
    now = now or utcnow()
    coupon = get_coupon(session, coupon_id, resident.community_id)
    if not coupon.active or coupon.merchant.status != "active" or (coupon.valid_until and coupon.valid_until <= now):
        raise Conflict("这张优惠券已下架或过期", code="coupon_unavailable")
    session.execute(select(Resident.id).where(Resident.id == resident.id).with_for_update(key_share=True)).all()
    mine = session.scalar(select(func.count()).select_from(CouponClaim).where(
        CouponClaim.coupon_id == coupon.id, CouponClaim.resident_id == resident.id)) or 0
    if mine >= coupon.per_resident:
        raise Conflict(f"这张优惠券每人限领{coupon.per_resident}张，您已经领过了", code="coupon_limit")
    taken = session.execute(update(Coupon).where(Coupon.id == coupon.id, Coupon.claimed < Coupon.stock)
                            .values(claimed=Coupon.claimed + 1).execution_options(synchronize_session=False)).rowcount
    session.expire(coupon, ["claimed"])
    if taken != 1:
        raise Conflict("优惠券已经领完了", code="coupon_out_of_stock")
    row = CouponClaim(coupon_id=coupon.id, merchant_id=coupon.merchant_id, resident_id=resident.id,
                      status="issued", claimed_at=now)
    session.add(row)
    session.flush()
    return row


def claim_of(session: Session, claim_id: int, resident: Resident) -> CouponClaim:
    """One of the resident's claims, or NotFound."""
    row = session.get(CouponClaim, claim_id)
    if row is None or row.resident_id != resident.id:
        raise NotFound("没有找到这张优惠券", code="claim_not_found")
    return row


def show_code(session: Session, row: CouponClaim, *, now: datetime | None = None) -> CouponClaim:
    """A fresh 6-digit code valid 10 minutes (unique among the merchant's live codes) for an unused claim."""
    now = now or utcnow()
    if row.status != "issued":
        raise Conflict("这张优惠券已经使用过了", code="already_redeemed")
    if row.code and row.code_expires_at and row.code_expires_at > now + timedelta(minutes=1):
        return row
    for _ in range(20):
        code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        clash = session.scalar(select(CouponClaim.id).where(
            CouponClaim.merchant_id == row.merchant_id, CouponClaim.code == code, CouponClaim.status == "issued",
            CouponClaim.code_expires_at > now).limit(1))
        if clash is None:
            row.code, row.code_expires_at = code, now + timedelta(minutes=CODE_MINUTES)
            session.flush()
            return row
    raise Conflict("核销码生成失败，请稍后再试", code="code_busy")


def redeem(session: Session, merchant: Merchant, code: str, *, now: datetime | None = None) -> CouponClaim:
    """The shop enters the code the resident shows: the claim is used, once; a second try is refused."""
    now = now or utcnow()
    code = (code or "").strip()
    if len(code) != CODE_LENGTH or not code.isdigit():
        raise ValidationFailed("请输入6位数字核销码", code="bad_code")
    row = session.scalar(select(CouponClaim).where(CouponClaim.merchant_id == merchant.id, CouponClaim.code == code)
                         .order_by(CouponClaim.code_expires_at.desc()).limit(1))
    if row is None:
        raise NotFound("核销码不对，请让顾客刷新后再试", code="code_not_found")
    done = session.execute(update(CouponClaim).where(
        CouponClaim.id == row.id, CouponClaim.status == "issued", CouponClaim.code == code,
        CouponClaim.code_expires_at > now).values(status="redeemed", redeemed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.expire(row)
    if done != 1:
        if row.status == "redeemed":
            raise Conflict("这张优惠券已经核销过了，不能重复使用", code="already_redeemed")
        raise Conflict("核销码已过期，请让顾客在小程序里刷新", code="code_expired")
    return row


def my_claims(session: Session, resident: Resident) -> list[CouponClaim]:
    """The resident's coupons, newest first."""
    return list(session.scalars(select(CouponClaim).where(CouponClaim.resident_id == resident.id)
                                .order_by(CouponClaim.claimed_at.desc(), CouponClaim.id.desc()).limit(100)))
