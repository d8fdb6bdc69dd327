"""The rules' console pages (admin, property): the façade calibration of each camera (with a point to try),
the e-bike tag registry, and the evidence actions of an alarm's page (legal hold, logged export)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.community.models import Building, Resident
from app.core.clock import to_local, utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, ValidationFailed
from app.devices import evidence, falling, lift
from app.devices.models import Device
from app.devices.rule_models import EbikeTag, LiftCase
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

EVIDENCE_ROLES = ("admin", "property")
_ID = "<int(max=2147483647):{}>"

add_nav("console.facade_list", "外立面标定", EVIDENCE_ROLES)


def _int(name: str) -> int:
    value = request.form.get(name, "").strip()
    if not value.isdigit() or len(value) > 6:
        raise ValidationFailed("楼栋、楼层数、最高层和列数需填整数", code="bad_number")
    return int(value)


def _back() -> str:
    """Where a form on the alarm's page returns to: its own `next` (a console path), else the façade page."""
    target = request.form.get("next", "")
    return target if target.startswith("/console/") and "//" not in target else url_for("console.facade_list")


def _float(name: str) -> float | None:
    try:
        return float(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/devices/facade")
@require_role(*EVIDENCE_ROLES)
def facade_list():
    """Every camera with its façade grid, and ?camera=&x=&y= to try where an image point lands."""
    staff = current_staff()
    cameras = db.session.scalars(select(Device).where(Device.community_id == staff.community_id,
                                                      Device.kind == "camera").order_by(Device.code)).all()
    buildings = db.session.scalars(select(Building).where(Building.community_id == staff.community_id)
                                   .order_by(Building.position, Building.id)).all()
    grids = {c.id: falling.grid_for(db.session, c.id) for c in cameras}
    tried, camera_id, x, y = None, request.args.get("camera", type=int), _float("x"), _float("y")
    grid = grids.get(camera_id)
    if grid is not None and x is not None and y is not None:
        where = falling.locate(grid.corners, grid.floors, grid.top_floor, grid.columns, x, y)
        tried = {"camera_id": camera_id, "x": x, "y": y, "where": where,
                 "candidates": falling.candidates(db.session, grid, where)}
    defaults = {b.id: ",".join(falling.default_column_flats(db.session, b.id)) for b in buildings}
    tags = db.session.scalars(select(EbikeTag).where(EbikeTag.community_id == staff.community_id)
                              .order_by(EbikeTag.tag)).all()
    cases = {t.tag: db.session.scalar(select(LiftCase.detected_at).where(LiftCase.tag == t.tag)
                                      .order_by(LiftCase.detected_at.desc()).limit(1)) for t in tags}
    return render_template("devices/facade.html", cameras=cameras, buildings=buildings, grids=grids, tried=tried,
                           defaults=defaults, tags=tags, cases=cases, residents={
                               t.resident_id: db.session.get(Resident, t.resident_id) for t in tags})


@bp.post(f"/devices/facade/{_ID.format('camera_id')}")
@require_role(*EVIDENCE_ROLES)
@unit_of_work
def facade_save(camera_id: int):
    """Save a camera's façade grid: building, floors, top floor, columns, 4 corners, flats per column."""
    back = redirect(url_for("console.facade_list") + f"#camera-{camera_id}", code=303)
    try:
        falling.save_grid(db.session, current_staff(), camera_id, building_id=_int("building_id"),
                          floors=_int("floors"), top_floor=_int("top_floor"), columns=_int("columns"),
                          corners=request.form.get("corners", "")[:200],
                          column_flats=request.form.get("column_flats", "")[:500], now=utcnow())
    except AppError as err:
        if err.status == 404:
            raise
        return refused(err, back)
    flash("已保存外立面标定", "success")
    return back


@bp.post("/devices/ebike-tags")
@require_role(*EVIDENCE_ROLES)
@unit_of_work
def ebike_tag_add():
    """Register an e-bike tag to a resident (by phone)."""
    staff = current_staff()
    back = redirect(url_for("console.facade_list") + "#ebike-tags", code=303)
    phone = request.form.get("phone", "").strip()[:20]
    resident = db.session.scalar(select(Resident).where(Resident.community_id == staff.community_id,
                                                        Resident.phone == phone))
    try:
        if resident is None:
            raise ValidationFailed("没有找到这个手机号的住户", code="resident_not_found")
        row = lift.register_tag(db.session, staff.community_id, request.form.get("tag", ""), resident.id)
    except AppError as err:
        return refused(err, back)
    flash(f"已登记电动车标签 {row.tag}", "success")
    return back


@bp.post(f"/alarms/{_ID.format('alarm_id')}/evidence/<any(hold, release):action>")
@require_role(*EVIDENCE_ROLES)
@unit_of_work
def evidence_hold(alarm_id: int, action: str):
    """Put the alarm's evidence under legal hold (with a reason) or lift the hold."""
    back = redirect(_back(), code=303)
    try:
        count = evidence.set_hold(db.session, current_staff(), alarm_id, action == "hold",
                                  request.form.get("reason", ""), utcnow())
    except AppError as err:
        if err.status == 404:
            raise
        return refused(err, back)
    flash(f"已保全 {count} 项证据，清理任务不会删除" if action == "hold" else "已解除证据保全", "success")
    return back


@bp.post(f"/alarms/{_ID.format('alarm_id')}/evidence/export")
@require_role(*EVIDENCE_ROLES)
@unit_of_work
def evidence_export(alarm_id: int):
    """Download the alarm's evidence manifest (refs, SHA-256, camera, times); the export is logged."""
    body, log = evidence.export(db.session, current_staff(), alarm_id, utcnow())
    name = f"evidence-alarm-{alarm_id}-{to_local(log.at):%Y%m%d%H%M%S}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
