"""The monthly settlement report: every redemption of a month per merchant and coupon, as an XLSX workbook
(a summary sheet and a detail sheet)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.clock import SHANGHAI, to_local
from app.core.errors import ValidationFailed
from app.merchants.models import Coupon, CouponClaim, Merchant


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """'2026-11' -> the month's start and the next month's start, naive UTC (Shanghai months)."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationFailed("月份格式应为 YYYY-MM", code="bad_month") from None
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return tuple(datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)
                 for d in (first, nxt))


def settlement_rows(session: Session, community_id: int, month: str) -> list[tuple[Merchant, Coupon, CouponClaim]]:
    """The month's redemptions of the community's merchants, by merchant then time."""
    start, end = month_bounds(month)
    return list(session.execute(
        select(Merchant, Coupon, CouponClaim).join(Coupon, Coupon.id == CouponClaim.coupon_id)
        .join(Merchant, Merchant.id == CouponClaim.merchant_id)
        .where(Merchant.community_id == community_id, CouponClaim.status == "redeemed",
               CouponClaim.redeemed_at >= start, CouponClaim.redeemed_at < end)
        .order_by(Merchant.name, CouponClaim.redeemed_at)).all())


def summary(rows: list[tuple[Merchant, Coupon, CouponClaim]]) -> list[tuple[str, str, int, float]]:
    """(merchant, coupon, redemptions, amount in yuan) per merchant and coupon."""
    out: dict[tuple[int, int], list] = {}
    for m, c, _claim in rows:
        entry = out.setdefault((m.id, c.id), [m.name, c.title, 0, 0])
        entry[2] += 1
        entry[3] += c.value_cents
    return [(name, title, n, cents / 100) for name, title, n, cents in out.values()]


def settlement_xlsx(session: Session, community_id: int, month: str) -> bytes:
    """The month's settlement workbook."""
    rows = settlement_rows(session, community_id, month)
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总"
    sheet.append([f"{month} 商户优惠券结算"])
    sheet.append(["商户", "优惠券", "核销张数", "结算金额（元）"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    lines = summary(rows)
    for line in lines:
        sheet.append(list(line))
    sheet.append(["合计", "", sum(n for _m, _c, n, _a in lines), round(sum(a for *_x, a in lines), 2)])
    detail = book.create_sheet("明细")
    detail.append(["商户", "优惠券", "核销时间", "面值（元）", "券号"])
    for m, c, claim in rows:
        detail.append([m.name, c.title, to_local(claim.redeemed_at).strftime("%Y-%m-%d %H:%M"), c.value_cents / 100,
                       claim.id])
    for ws in (sheet, detail):
        ws.column_dimensions["A"].width = 24
        ws.column_dimensions["B"].width = 24
        ws.column_dimensions["C"].width = 18
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
