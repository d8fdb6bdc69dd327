"""The doctor's console: the residents of their area with health colour, bookings and measurements;
and the admins' page that reads the health-data access log.

The scope is the service layer's (app.clinic.clinic.scope_filter); opening a resident outside it is
refused and the attempt is logged (committed before the 403 page is shown). Every read is logged with
the doctor's IP, console session and purpose, which these views hand to the services.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from sqlalchemy import select

from app.clinic import bookings, clinic
from app.clinic.clinic import ACCESS_ACTION_LABELS, ACCESS_PURPOSE_LABELS, COLOUR_LABELS, MEASUREMENT_LABELS
from app.clinic.models import COLOURS, Booking
from app.clinic.slots import slot_label
from app.community.health_access import session_ref
from app.core.db import db, unit_of_work
from app.core.errors import AppError, Forbidden
from console.auth import SESSION_LOGIN_AT, SESSION_VERSION, current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

DOCTORS = ("doctor",)
ADMINS = ("admin",)
LOG_PER_PAGE = 50
_ID = "<int(max=2147483647):resident_id>"
TABS = (("all", "全部"), ("red", "红色"), ("yellow", "黄色"), ("green", "绿色"))

add_nav("console.clinic_residents", "家庭医生", DOCTORS)


def _reader() -> dict:
    """Where this read comes from, for the access log: the client's IP and a hash naming the sign-in."""
    staff = current_staff()
    return {"ip": request.remote_addr,
            "session_ref": session_ref(staff.id, session.get(SESSION_LOGIN_AT), session.get(SESSION_VERSION))}


def _labels() -> dict:
    return {"colour_labels": COLOUR_LABELS, "measure_labels": MEASUREMENT_LABELS,
            "status_labels": bookings.STATUS_LABELS, "slot_label": slot_label}


@bp.get("/clinic")
@require_role(*DOCTORS)
@unit_of_work
def clinic_residents():
    """The doctor's residents, red first; tabs by colour."""
    colour = request.args.get("colour", "all")
    colour = colour if colour in COLOURS else "all"
    rows = clinic.list_residents(db.session, current_staff(), colour=None if colour == "all" else colour,
                                 purpose="list", **_reader())
    return render_template("clinic/residents.html", rows=rows, tabs=TABS, colour=colour, **_labels())


def _open(resident_id: int, purpose: str = "resident_file"):
    try:
        return clinic.open_health_file(db.session, current_staff(), resident_id, purpose=purpose, **_reader())
    except Forbidden:
        db.session.commit()  # keep the refused attempt in the access log
        raise


@bp.get(f"/clinic/residents/{_ID}")
@require_role(*DOCTORS)
@unit_of_work
def clinic_resident(resident_id: int):
    """One resident's health file: colour, measurements and bookings (the read is logged)."""
    resident = _open(resident_id)
    record = clinic.health_record(db.session, resident.id)
    readings = clinic.measurements(db.session, resident.id, limit=30)
    rows = db.session.scalars(select(Booking).where(Booking.resident_id == resident.id)
                              .order_by(Booking.starts_at.desc()).limit(30)).all()
    return render_template("clinic/resident.html", r=resident, record=record, readings=readings, bookings=rows,
                           colours=COLOURS, **_labels())


@bp.post(f"/clinic/residents/{_ID}/colour")
@require_role(*DOCTORS)
@unit_of_work
def clinic_set_colour(resident_id: int):
    """The doctor sets a colour with a note, or hands it back to the measurement thresholds."""
    _open(resident_id, "colour_change")
    colour = (request.form.get("colour") or "").strip()
    try:
        clinic.set_colour(db.session, current_staff(), resident_id, None if colour == "auto" else colour,
                          request.form.get("note") or "", **_reader())
    except AppError as err:
        return refused(err, redirect(url_for("console.clinic_resident", resident_id=resident_id), code=303))
    flash("健康颜色已更新", "success")
    return redirect(url_for("console.clinic_resident", resident_id=resident_id), code=303)


@bp.post("/clinic/bookings/<int(max=2147483647):booking_id>/<any(check_in, complete):action>")
@require_role(*DOCTORS)
@unit_of_work
def clinic_booking_action(booking_id: int, action: str):
    """Check a resident in, or mark the booking completed (residents of the doctor's area only)."""
    booking = db.session.get(Booking, booking_id)
    resident_id = booking.resident_id if booking is not None else 0
    if booking is None:
        flash("没有这个预约", "error")
        return redirect(url_for("console.clinic_residents"), code=303)
    _open(resident_id, "booking")
    try:
        (bookings.check_in if action == "check_in" else bookings.complete)(db.session, booking)
    except AppError as err:
        return refused(err, redirect(url_for("console.clinic_resident", resident_id=resident_id), code=303))
    flash("已签到" if action == "check_in" else "已完成", "success")
    return redirect(url_for("console.clinic_resident", resident_id=resident_id), code=303)


@bp.get("/clinic/access-log")
@require_role(*ADMINS)
def health_access_log():
    """Admins read who read health data: newest first, by staff member and purpose, 50 a page."""
    staff = current_staff()
    staff_id = request.args.get("staff", type=int)
    purpose = (request.args.get("purpose") or "").strip()[:30] or None
    page = max(1, min(request.args.get("page", 1, type=int), 10_000))
    query = clinic.access_log_query(staff.community_id, staff_id=staff_id, purpose=purpose)
    pagination = db.paginate(query, page=page, per_page=LOG_PER_PAGE, error_out=False, count=True)
    return render_template("clinic/access_log.html", pagination=pagination, staff_id=staff_id, purpose=purpose,
                           readers=clinic.access_log_staff(db.session, staff.community_id),
                           purposes=ACCESS_PURPOSE_LABELS, actions=ACCESS_ACTION_LABELS)
