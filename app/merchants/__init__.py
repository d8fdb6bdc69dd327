"""merchants (15分钟生活圈): the directory of merchants near a community (kind, address, walking minutes from
the gate, hours, phone, verified licence, status), merchant_query in chat, coupons with stock and a
per-resident limit, one-time redemption by a 6-digit 10-minute code on the merchant's token-link page, and
the monthly settlement workbook.

Public surface: directory (find, is_open, next_opening, add_merchant, issue_token, revoke_token, by_token),
coupons (add_coupon, claim, show_code, redeem), report (settlement_xlsx), models (Merchant, Coupon,
CouponClaim).
"""

from __future__ import annotations

from flask import Flask

from app.chat import menu
from app.community.demo import add_step as add_seed_step
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Models, the merchant_query answer, console pages, API routes, the redeem page and the demo merchants."""
    from app.merchants import api, chat, console, models  # noqa: F401, PLC0415 - answers and routes attach on import
    from app.merchants.demo import seed_merchants  # noqa: PLC0415
    from app.merchants.shop import shop_bp  # noqa: PLC0415

    if shop_bp.name not in app.blueprints:
        app.register_blueprint(shop_bp)
    add_templates(app, __name__)
    add_seed_step(seed_merchants)
    menu.add_line("merchant", 75, "周边商户：如“附近有修鞋的吗”")
