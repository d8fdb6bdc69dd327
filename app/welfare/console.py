"""Welfare in the console (steward, grid worker, admin; each within their buildings): the watch list, open
checks and outcomes, a resident's page with consent, threshold, signals and mode, and the visit outcome with
an optional photo. Every page and change is written to the access log."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select

from app.community.health_access import session_ref
from app.community.models import Resident
from app.core.clock import SHANGHAI, local_now, to_local, utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from app.core.uploads import save_photo, send_photo
from app.welfare import access, board, checks, orders
from app.welfare import watch as watching
from app.welfare.models import SIGNALS, WelfareCheck
from console.auth import SESSION_LOGIN_AT, SESSION_VERSION, current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

_ID = "<int(max=2147483647):watch_id>"
_CHECK = "<int(max=2147483647):check_id>"

add_nav("console.welfare", "独居关怀", access.VIEW_ROLES)


def _where() -> dict:
    staff = current_staff()
    return {"ip": request.remote_addr,
            "session_ref": session_ref(staff.id, session.get(SESSION_LOGIN_AT), session.get(SESSION_VERSION))}


def _photo_dir() -> Path:
    return Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads") / "welfare"


def _watch(watch_id: int, purpose: str):
    """The watch, if the staff member may see it; a refused attempt is logged (and committed) first."""
    staff = current_staff()
    watch = watching.get_watch(db.session, watch_id, staff.community_id)
    if not access.may_see(staff, watch):
        access.log(db.session, staff, action="refused", purpose=purpose, resident_id=watch.resident_id, **_where())
        db.session.commit()
        raise Forbidden("这位住户不在您负责的楼栋", code="out_of_scope")
    return watch


def _local_date(value: str, field: str) -> datetime:
    """A yyyy-mm-dd from a form as the midnight after that local day (naive UTC): "until 15th" = through the 15th."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed("请选择日期", code="bad_date", details={"field": field}) from exc
    return datetime.combine(day + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def _hours() -> int | None:
    value = request.form.get("threshold_hours", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationFailed("无动静提醒时间请填小时数", code="bad_threshold")
    return int(value)


@bp.get("/welfare")
@require_role(*access.VIEW_ROLES)
@unit_of_work
def welfare():
    """The watch list, open checks, recent outcomes and the per-building summary (logged as a list view)."""
    staff, now = current_staff(), utcnow()
    page = board.board(db.session, staff, now)
    access.log(db.session, staff, action="list", purpose="welfare_list", detail=f"{len(page.rows)} 位关怀对象",
               **_where())
    return render_template("welfare/list.html", page=page, now=now, may_edit=staff.role in access.EDIT_ROLES,
                           signals=SIGNALS, **_labels())


def _labels() -> dict:
    return {"signal_labels": watching.SIGNAL_LABELS, "mode_labels": watching.MODE_LABELS,
            "outcome_labels": checks.OUTCOME_LABELS, "level_labels": checks.LEVEL_LABELS,
            "colour_labels": board.COLOUR_LABELS, "relation_labels": watching.RELATION_LABELS,
            "span_hours": watching.span_hours, "describe": checks.describe_silence,
            "since_local": lambda iso: f"{to_local(datetime.fromisoformat(iso)):%Y-%m-%d %H:%M}"}


@bp.post("/welfare")
@require_role(*access.EDIT_ROLES)
@unit_of_work
def welfare_add():
    """Start watching a resident (found by phone in the community) with the consent given."""
    staff, form, now = current_staff(), request.form, utcnow()
    back = redirect(url_for("console.welfare"), code=303)
    try:
        resident = db.session.scalar(select(Resident).where(Resident.community_id == staff.community_id,
                                                            Resident.phone == form.get("phone", "").strip()))
        if resident is None:
            raise ValidationFailed("本小区没有这个电话的住户", code="resident_not_found")
        building = resident.household.unit.building.number if resident.household else ""
        if not staff.covers_building(building):
            raise Forbidden("这位住户不在您负责的楼栋", code="out_of_scope")
        consented = form.get("consented_on", "").strip()
        consented_at = _local_date(consented, "consented_on") if consented else now
        watch = watching.start_watch(
            db.session, resident, consent_by=form.get("consent_by", ""), relation=form.get("relation", "self"),
            consent_phone=form.get("consent_phone"), consented_at=min(consented_at, now), staff=staff, now=now,
            family_name=form.get("family_name"), family_phone=form.get("family_phone"),
            risk=form.get("risk", "normal"), threshold_hours=_hours(), lift_card=form.get("lift_card"))
    except AppError as err:
        return refused(err, back)
    access.log(db.session, staff, action="edit", purpose="welfare_edit", resident_id=resident.id,
               detail="加入关怀名单", **_where())
    flash(f"已将{resident.name}加入关怀名单", "success")
    return redirect(url_for("console.welfare_watch", watch_id=watch.id), code=303)


@bp.get(f"/welfare/{_ID}")
@require_role(*access.VIEW_ROLES)
@unit_of_work
def welfare_watch(watch_id: int):
    """One watched resident: consent, threshold, signals, mode, checks and device work orders (logged)."""
    staff, now = current_staff(), utcnow()
    watch = _watch(watch_id, "welfare_resident")
    silent, blind = checks.silence(db.session, watch)
    access.log(db.session, staff, action="view", purpose="welfare_resident", resident_id=watch.resident_id,
               **_where())
    return render_template("welfare/watch.html", w=watch, now=now, silent=silent, blind=blind,
                           history=board.history(db.session, watch.id), orders=orders.orders_of(db.session, watch.id),
                           colour=board.colour(watch, now, watching.open_check(db.session, watch.id) is not None),
                           may_edit=staff.role in access.EDIT_ROLES, signals=SIGNALS, due=watching.due_time(watch),
                           today=local_now().date(), **_labels())


@bp.post(f"/welfare/{_ID}")
@require_role(*access.EDIT_ROLES)
@unit_of_work
def welfare_update(watch_id: int):
    """Save threshold, risk, signals, family contact and lift card (or stop / restart watching)."""
    staff, form = current_staff(), request.form
    watch = _watch(watch_id, "welfare_edit")
    back = redirect(url_for("console.welfare_watch", watch_id=watch_id), code=303)
    active = {"stop": False, "start": True}.get(form.get("action", ""))
    try:
        watching.update_watch(db.session, watch, now=utcnow(), threshold_hours=_hours(), risk=form.get("risk"),
                              signals=form.getlist("signals") if "signals_sent" in form else None,
                              family_name=form.get("family_name"), family_phone=form.get("family_phone"),
                              lift_card=form.get("lift_card"), active=active)
    except AppError as err:
        return refused(err, back)
    access.log(db.session, staff, action="edit", purpose="welfare_edit", resident_id=watch.resident_id,
               detail="修改关怀设置", **_where())
    flash("已保存", "success")
    return back


@bp.post(f"/welfare/{_ID}/mode")
@require_role(*access.EDIT_ROLES)
@unit_of_work
def welfare_mode(watch_id: int):
    """Away or in hospital until a date, or back to normal (set by the steward)."""
    staff, form = current_staff(), request.form
    watch = _watch(watch_id, "welfare_edit")
    back = redirect(url_for("console.welfare_watch", watch_id=watch_id), code=303)
    mode = form.get("mode", "")
    try:
        until = _local_date(form.get("until", ""), "until") if mode in ("away", "hospital") else None
        watching.set_mode(db.session, watch, mode, until=until, by=f"{staff.name}（管理后台）", now=utcnow())
    except AppError as err:
        return refused(err, back)
    access.log(db.session, staff, action="edit", purpose="welfare_edit", resident_id=watch.resident_id,
               detail=f"状态改为{watching.MODE_LABELS.get(mode, mode)}", **_where())
    flash(f"已设为{watching.MODE_LABELS[mode]}", "success")
    return back


def _check(check_id: int) -> WelfareCheck:
    staff = current_staff()
    check = checks.check_for_staff(db.session, check_id, staff)
    if staff.role not in access.VIEW_ROLES:
        raise Forbidden("您的岗位没有权限访问这个页面", code="role_forbidden")
    return check


@bp.post(f"/welfare/checks/{_CHECK}/visit")
@require_role(*access.VIEW_ROLES)
@unit_of_work
def welfare_visit(check_id: int):
    """Take a check and go: it is acknowledged (no escalation) and the resident's mode is visit in progress."""
    staff = current_staff()
    check = _check(check_id)
    try:
        checks.acknowledge(db.session, check, staff, utcnow(), visit=True)
    except AppError as err:
        return refused(err, redirect(url_for("console.welfare"), code=303))
    access.log(db.session, staff, action="edit", purpose="welfare_check", resident_id=check.resident_id,
               detail=f"确认提醒 #{check.id}，前往探访", **_where())
    flash("已确认，请尽快上门探访", "success")
    return redirect(url_for("console.welfare_watch", watch_id=check.watch_id), code=303)


@bp.post(f"/welfare/checks/{_CHECK}/outcome")
@require_role(*access.VIEW_ROLES)
@unit_of_work
def welfare_outcome(check_id: int):
    """The visit's outcome with a note and an optional photo."""
    staff, form = current_staff(), request.form
    check = _check(check_id)
    back = redirect(url_for("console.welfare_watch", watch_id=check.watch_id), code=303)
    try:
        upload = request.files.get("photo")
        photo = save_photo(upload, _photo_dir(), f"c{check.id}") if upload and upload.filename else None
        checks.record_outcome(db.session, check, staff, form.get("outcome", ""), utcnow(), note=form.get("note", ""),
                              photo=photo)
    except AppError as err:
        return refused(err, back)
    access.log(db.session, staff, action="edit", purpose="welfare_check", resident_id=check.resident_id,
               detail=f"提醒 #{check.id}：{checks.OUTCOME_LABELS[check.outcome]}", **_where())
    flash(f"已记录：{checks.OUTCOME_LABELS[check.outcome]}", "success")
    return back


@bp.get("/welfare/photos/<int(max=2147483647):check_id>")
@require_role(*access.VIEW_ROLES)
@unit_of_work
def welfare_photo(check_id: int):
    """A visit's photo, for staff who may see the check (logged)."""
    staff = current_staff()
    check = _check(check_id)
    if not check.photo:
        raise NotFound("这次探访没有照片", code="photo_not_found")
    access.log(db.session, staff, action="view", purpose="welfare_photo", resident_id=check.resident_id, **_where())
    return send_photo(_photo_dir() / check.photo)
