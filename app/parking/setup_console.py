"""Setting parking up in the console: adding zones (a building's spaces or a shared lot) and camera devices,
whose signing secret is shown once, when it is made."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from app.community.models import Building
from app.core.db import db, unit_of_work
from app.core.errors import AppError, ValidationFailed
from app.core.redis_conn import get_redis
from app.parking import ingest as parking_ingest
from app.parking import parking
from app.parking.models import ParkingDevice, ParkingZone
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused

ROLES = ("admin", "property")


def _capacity(name: str) -> int:
    value = request.form.get(name, "").strip()
    if not value.isdigit() or int(value) > 10_000:
        raise ValidationFailed("车位数应为 0–10000 的整数", code="invalid_capacity")
    return int(value)


@bp.get("/parking/setup")
@require_role(*ROLES)
def parking_setup():
    """Zones and devices of the community, with forms to add them."""
    staff = current_staff()
    zones = parking.zones(db.session, staff.community_id)
    devices = db.session.scalars(select(ParkingDevice).where(ParkingDevice.community_id == staff.community_id)
                                 .order_by(ParkingDevice.id)).all()
    names = {z.id: z.name for z in zones}
    return render_template("parking/setup.html", zones=zones, devices=devices, zone_names=names,
                           can_add_device=staff.role == "admin")


@bp.post("/parking/setup/zones")
@require_role(*ROLES)
@unit_of_work
def parking_add_zone():
    """Add a zone; a building number ties it to that building, none makes it a shared lot."""
    staff = current_staff()
    number = request.form.get("building", "").strip()
    try:
        building_id = None
        if number:
            building_id = db.session.scalar(select(Building.id).where(Building.community_id == staff.community_id,
                                                                      Building.number == number))
            if building_id is None:
                raise ValidationFailed(f"没有{number}幢", code="unknown_building")
        code, name = request.form.get("code", "").strip()[:40], request.form.get("name", "").strip()[:60]
        if not code or not name:
            raise ValidationFailed("请填写区域编号和名称", code="missing_field")
        zone = parking.create_zone(db.session, community_id=staff.community_id, code=code, name=name,
                                   fixed_capacity=_capacity("fixed_capacity"),
                                   temporary_capacity=_capacity("temporary_capacity"), building_id=building_id)
    except AppError as err:
        return refused(err, redirect(url_for("console.parking_setup")))
    db.session.commit()  # before the cache is dropped: the next read must see the new zone
    parking.drop_cache(get_redis(current_app), staff.community_id)  # the next read rebuilds it with the zone
    flash(f"已添加停车区域：{zone.name}（{zone.code}）", "success")
    return redirect(url_for("console.parking_setup"))


@bp.post("/parking/setup/devices")
@require_role("admin")
@unit_of_work
def parking_add_device():
    """Register a camera system; its secret is shown this once and never again."""
    staff = current_staff()
    codes = [c.strip() for c in request.form.get("zones", "").replace("，", ",").split(",") if c.strip()]
    zone_ids = list(db.session.scalars(select(ParkingZone.id).where(ParkingZone.community_id == staff.community_id,
                                                                    ParkingZone.code.in_(codes)))) if codes else []
    if len(zone_ids) != len(set(codes)):
        flash("有区域编号不存在，请核对", "error")
        return redirect(url_for("console.parking_setup"))
    device = parking_ingest.new_device(db.session, community_id=staff.community_id,
                                       seal_key=current_app.config["SECRET_KEY"],
                                       name=request.form.get("name", "").strip()[:60], zone_ids=zone_ids)
    response = make_response(render_template("parking/device_created.html", device=device))
    response.headers["Cache-Control"] = "no-store"
    return response
