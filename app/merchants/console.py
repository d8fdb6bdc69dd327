"""Merchants in the console (admin, property, committee): the directory, licence checks, status, coupons,
the merchant's redeem link (issued and revoked), and the monthly settlement workbook."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.core.clock import local_now
from app.core.db import db, unit_of_work
from app.core.errors import AppError, ValidationFailed
from app.merchants import coupons, directory, report
from app.merchants.directory import EDITOR_ROLES
from app.merchants.models import STATUS_LABELS
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

_ID = "<int(max=2147483647):merchant_id>"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

add_nav("console.merchants_list", "周边商户", EDITOR_ROLES)


def _int(name: str, default: int = 0, *, optional: bool = False) -> int | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None if optional else default
    if not raw.isdigit() or len(raw) > 7:
        raise ValidationFailed("请填写数字", code="bad_number")
    return int(raw)


def _back(merchant_id: int):
    return redirect(url_for("console.merchants_detail", merchant_id=merchant_id), code=303)


@bp.get("/merchants")
@require_role(*EDITOR_ROLES)
def merchants_list():
    """Every merchant of the community, nearest first, and the form to add one."""
    rows = directory.find(db.session, current_staff().community_id, None, active_only=False)
    return render_template("merchants/list.html", rows=rows, labels=STATUS_LABELS, hours=directory.hours_label,
                           is_open=directory.is_open, at=local_now(), month=local_now().strftime("%Y-%m"))


@bp.post("/merchants")
@require_role(*EDITOR_ROLES)
@unit_of_work
def merchants_add():
    """A merchant of the community."""
    form = request.form
    try:
        m = directory.add_merchant(
            db.session, current_staff().community_id, name=form.get("name", ""), kind=form.get("kind", ""),
            keywords=[w for w in form.get("keywords", "").replace("，", ",").split(",") if w.strip()],
            address=form.get("address", ""), walk_minutes=_int("walk_minutes", 5), opens=form.get("opens", ""),
            closes=form.get("closes", ""), rest_weekday=_int("rest_weekday", optional=True),
            phone=form.get("phone", "")[:20])
    except AppError as err:
        return refused(err, redirect(url_for("console.merchants_list"), code=303))
    flash(f"已添加商户：{m.name}", "success")
    return _back(m.id)


@bp.get(f"/merchants/{_ID}")
@require_role(*EDITOR_ROLES)
def merchants_detail(merchant_id: int):
    """A merchant: licence, status, coupons and its redeem link."""
    m = directory.get_merchant(db.session, merchant_id, current_staff().community_id)
    return render_template("merchants/detail.html", m=m, labels=STATUS_LABELS, hours=directory.hours_label,
                           coupons=coupons.coupons_of(db.session, m), link=request.args.get("link"))


@bp.post(f"/merchants/{_ID}/licence")
@require_role(*EDITOR_ROLES)
@unit_of_work
def merchants_licence(merchant_id: int):
    """Record that the business licence was checked."""
    m = directory.get_merchant(db.session, merchant_id, current_staff().community_id)
    try:
        directory.verify_licence(db.session, m, request.form.get("licence_no", ""))
    except AppError as err:
        return refused(err, _back(merchant_id))
    flash("营业执照已核验", "success")
    return _back(merchant_id)


@bp.post(f"/merchants/{_ID}/status")
@require_role(*EDITOR_ROLES)
@unit_of_work
def merchants_status(merchant_id: int):
    """Active, suspended or closed."""
    m = directory.get_merchant(db.session, merchant_id, current_staff().community_id)
    try:
        directory.set_status(db.session, m, request.form.get("status", ""))
    except AppError as err:
        return refused(err, _back(merchant_id))
    flash(f"状态：{STATUS_LABELS[m.status]}", "success")
    return _back(merchant_id)


@bp.post(f"/merchants/{_ID}/link")
@require_role(*EDITOR_ROLES)
@unit_of_work
def merchants_link(merchant_id: int):
    """A new redeem link for the merchant (shown once; the old one stops working)."""
    m = directory.get_merchant(db.session, merchant_id, current_staff().community_id)
    token = directory.issue_token(db.session, m)
    flash("已生成新的核销链接，旧链接已失效。请把链接发给商户，只显示这一次。", "success")
    return redirect(url_for("console.merchants_detail", merchant_id=merchant_id,
                            link=url_for("merchants_shop.redeem_page", token=token, _external=True)), code=303)


@bp.post(f"/merchants/{_ID}/link/revoke")
@require_role(*EDITOR_ROLES)
@unit_of_work
def merchants_link_revoke(merchant_id: int):
    """The redeem link stops working."""
    m = directory.get_merchant(db.session, merchant_id, current_staff().community_id)
    directory.revoke_token(db.session, m)
    flash("核销链接已作废", "success")
    return _back(merchant_id)


@bp.post(f"/merchants/{_ID}/coupons")
@require_role(*EDITOR_ROLES)
@unit_of_work
def merchants_coupon_add(merchant_id: int):
    """A coupon of the merchant."""
    m = directory.get_merchant(db.session, merchant_id, current_staff().community_id)
    try:
        value = round(float(request.form.get("value", "0") or 0) * 100)
        c = coupons.add_coupon(db.session, m, title=request.form.get("title", ""), value_cents=value,
                               stock=_int("stock", 100), per_resident=_int("per_resident", 1),
                               description=request.form.get("description", ""))
    except ValueError:
        return refused(ValidationFailed("面值请填数字", code="bad_value"), _back(merchant_id))
    except AppError as err:
        return refused(err, _back(merchant_id))
    flash(f"已添加优惠券：{c.title}", "success")
    return _back(merchant_id)


@bp.get("/merchants/settlement.xlsx")
@require_role(*EDITOR_ROLES)
def merchants_settlement():
    """The month's settlement workbook (?month=YYYY-MM, this month by default)."""
    month = request.args.get("month") or local_now().strftime("%Y-%m")
    data = report.settlement_xlsx(db.session, current_staff().community_id, month[:7])
    return data, 200, {"Content-Type": XLSX,
                       "Content-Disposition": f'attachment; filename="settlement-{month[:7]}.xlsx"'}
