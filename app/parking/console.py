"""Parking in the console: zones with their counts, one zone's occupancy over a day and a week, car
notices (unknown and disputed plates waiting for staff; staff sending a notice by plate), and disputed plates
(claimed by more than one household) that staff settle by keeping one claim."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import case, select

from app.chat.conversations import to_naive_utc
from app.core.clock import SHANGHAI, local_now, utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError
from app.core.redis_conn import get_redis
from app.parking import car_notices, disputes, parking
from app.parking.chart import svg_chart
from app.parking.models import NOTICE_KINDS, CarNotice, ParkingZone
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

ROLES = ("admin", "property")
NOTICE_STATUS_LABELS = {"sent": "已通知车主", "handled": "车主已处理", "unmatched": "未登记车牌，待处理",
                        "closed": "物业已处理"}
DISPUTED_LABEL = "车牌登记有争议，待处理"

add_nav("console.parking_zones", "停车", ROLES)
from app.parking import setup_console as parking_setup  # noqa: E402,F401 - zone and device setup pages on the same blueprint


def _stale_minutes() -> int:
    return int(current_app.config.get("PARKING_STALE_MINUTES", parking.STALE_MINUTES))


@bp.get("/parking")
@require_role(*ROLES)
def parking_zones():
    """Every zone with capacity, in use, free, and when it was last counted."""
    staff = current_staff()
    now = utcnow()
    found = parking.availability(db.session, get_redis(current_app), staff.community_id, now=now,
                                 stale_minutes=_stale_minutes())
    waiting = db.session.query(CarNotice).filter_by(community_id=staff.community_id, status="unmatched").count()
    disputed = len(disputes.disputed_plates(db.session, staff.community_id))
    return render_template("parking/zones.html", zones=found, now=now, stale_minutes=_stale_minutes(),
                           waiting=waiting, disputed=disputed, kinds=car_notices.KIND_LABELS)


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else local_now().date()
    except ValueError:
        return local_now().date()


@bp.get("/parking/zones/<int(max=2147483647):zone_id>")
@require_role(*ROLES)
def parking_zone(zone_id: int):
    """A zone's occupancy over one day (5-minute points) and the week up to it (hourly averages)."""
    zone = db.session.get(ParkingZone, zone_id)
    if zone is None or zone.community_id != current_staff().community_id:
        abort(404)
    day = _day(request.args.get("date"))
    day_start = to_naive_utc(datetime.combine(day, time(0), SHANGHAI))
    week_start = day_start - timedelta(days=6)
    end = day_start + timedelta(days=1)
    caps = {"fixed_capacity": zone.fixed_capacity, "temporary_capacity": zone.temporary_capacity}
    day_points = parking.history(db.session, zone.id, start=day_start, end=end)
    week_points = parking.history(db.session, zone.id, start=week_start, end=end, step=timedelta(hours=1))
    charts = {
        "day": svg_chart(day_points, start=day_start, end=end, tick=timedelta(hours=3), tick_format="%H:%M",
                         title=f"{zone.name} {day.isoformat()} 占用", **caps),
        "week": svg_chart(week_points, start=week_start, end=end, tick=timedelta(days=1), tick_format="%m-%d",
                          title=f"{zone.name} 近7天占用（每小时平均）", **caps),
    }
    peak = max((f + t for _at, f, t in day_points), default=None)
    return render_template("parking/zone.html", zone=zone, day=day, charts=charts, points=len(day_points),
                           peak=peak, prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))


@bp.get("/parking/notices")
@require_role(*ROLES)
def parking_notices():
    """Car notices, unknown plates first; staff can close those and send a notice themselves."""
    staff = current_staff()
    rows = db.session.scalars(
        select(CarNotice).where(CarNotice.community_id == staff.community_id)
        .order_by(case((CarNotice.status == "unmatched", 0), else_=1), CarNotice.created_at.desc())
        .limit(200)).all()
    return render_template("parking/notices.html", rows=rows, kinds=car_notices.KIND_LABELS,
                           statuses=NOTICE_STATUS_LABELS, notice_kinds=NOTICE_KINDS, disputed_label=DISPUTED_LABEL,
                           disputed=disputes.disputed_plates(db.session, staff.community_id))


@bp.post("/parking/notices")
@require_role(*ROLES)
@unit_of_work
def parking_send_notice():
    """Staff tell a plate's owner (the owner sees only that the property sent it)."""
    staff = current_staff()
    try:
        notice = car_notices.send_notice(
            db.session, get_redis(current_app), community_id=staff.community_id,
            plate=request.form.get("plate", "")[:20], kind=request.form.get("kind", ""),
            text=request.form.get("text", "")[:200], staff=staff, source="console")
    except AppError as err:
        return refused(err, redirect(url_for("console.parking_notices")))
    flash(car_notices.sender_reply(notice), "success")
    return redirect(url_for("console.parking_notices"))


@bp.post("/parking/notices/<int(max=2147483647):notice_id>/close")
@require_role(*ROLES)
@unit_of_work
def parking_close_notice(notice_id: int):
    """Mark an unknown plate's notice as dealt with; the resident who sent it is told."""
    staff = current_staff()
    notice = db.session.get(CarNotice, notice_id)
    if notice is None or notice.community_id != staff.community_id:
        abort(404)
    try:
        car_notices.close_unmatched(db.session, notice, staff, request.form.get("note", "")[:200])
    except AppError as err:
        flash(err.message, "error")
        return redirect(url_for("console.parking_notices"))
    flash(f"已处理车牌{notice.plate}的提醒", "success")
    return redirect(url_for("console.parking_notices"))


@bp.get("/parking/disputes")
@require_role(*ROLES)
def parking_disputes():
    """Plates claimed by more than one household, with each claim, and the latest settled ones."""
    staff = current_staff()
    return render_template("parking/disputes.html", disputes=disputes.disputes(db.session, staff.community_id),
                           resolutions=disputes.resolutions(db.session, staff.community_id))


@bp.post("/parking/disputes/<int(max=2147483647):vehicle_id>/keep")
@require_role(*ROLES)
@unit_of_work
def parking_keep_claim(vehicle_id: int):
    """Keep this household's claim to a disputed plate and remove the others; each household is told."""
    try:
        record = disputes.resolve(db.session, current_staff(), vehicle_id, request.form.get("note", "")[:200])
    except AppError as err:
        return refused(err, redirect(url_for("console.parking_disputes")))
    flash(f"车牌{record.plate}已保留一户登记，其余登记已移除", "success")
    return redirect(url_for("console.parking_disputes"))
