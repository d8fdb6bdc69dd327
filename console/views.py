"""The console's overview and residents pages."""

from __future__ import annotations

from datetime import datetime

from flask import render_template, request

from app.binding.bindings import pending_bindings
from app.community.staff import count_residents, residents_query, visible_buildings
from app.core.clock import to_local
from app.core.db import db
from console.auth import current_staff, require_role
from console.blueprint import bp

PER_PAGE = 20


@bp.get("/")
def dashboard():
    """Counts a staff member cares about first: residents, bound residents, bindings waiting."""
    staff = current_staff()
    counts = {"residents": count_residents(db.session, staff),
              "bound": count_residents(db.session, staff, bound_only=True)}
    if staff.role in ("admin", "property"):
        counts["pending_bindings"] = len(pending_bindings(db.session, staff))
    return render_template("console/dashboard.html", counts=counts, scope=visible_buildings(staff))


@bp.get("/residents")
@require_role("admin", "property")
def residents():
    """Residents in the staff member's scope, searchable by name, room or phone's last 4 digits."""
    staff = current_staff()
    q = request.args.get("q", "").strip()[:50]
    page = max(1, min(request.args.get("page", 1, type=int), 10_000))
    pagination = db.paginate(residents_query(db.session, staff, q), page=page, per_page=PER_PAGE,
                             error_out=False, count=True)
    return render_template("console/residents.html", q=q, pagination=pagination,
                           scope=visible_buildings(staff))


@bp.app_template_filter("local_time")
def local_time(value: datetime | None) -> str:
    """A stored UTC time as Shanghai month-day hour:minute."""
    return to_local(value).strftime("%m-%d %H:%M") if value else ""
