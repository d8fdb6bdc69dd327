"""The merchant's redeem page, reached by a token link (no staff login): type the resident's 6-digit code.

The secret token in the path is what authorises the page, and a forged cross-site post would need it too,
so the page carries no session or CSRF cookie. Staff revoke a link (or issue a new one) in the console."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.core.db import db, unit_of_work
from app.core.errors import AppError
from app.merchants import coupons, directory

shop_bp = Blueprint("merchants_shop", __name__, url_prefix="/shop")


@shop_bp.get("/redeem/<token>")
def redeem_page(token: str):
    """The redeem form of the merchant the link belongs to."""
    merchant = directory.by_token(db.session, token)
    return render_template("merchants/redeem.html", m=merchant, token=token, done=None, error=None)


@shop_bp.post("/redeem/<token>")
@unit_of_work
def redeem(token: str):
    """Redeem a resident's code once; the page says what happened."""
    merchant = directory.by_token(db.session, token)
    try:
        row = coupons.redeem(db.session, merchant, request.form.get("code", ""))
    except AppError as err:
        db.session.rollback()
        return render_template("merchants/redeem.html", m=merchant, token=token, done=None, error=err.message), \
            err.status
    return render_template("merchants/redeem.html", m=merchant, token=token, done=row, error=None)
