"""The console's overview and residents pages."""

from __future__ import annotations

from datetime import datetime

from flask import render_template, request

from app.community.staff import count_residents, residents_query, visible_buildings
from app.core.clock import to_local
from app.core.db import db
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.dashboard import Tile, add_tile, tiles_for

PER_PAGE = 20


add_tile(Tile("residents", "登记住户", count_residents))
add_tile(Tile("bound", "已绑定微信", lambda session, staff: count_residents(session, staff, bound_only=True)))


@bp.get("/")
def dashboard():
    """Counts a staff member cares about first: residents, bound residents, and what features add."""
    staff = current_staff()
    tiles = [(tile, tile.count(db.session, staff)) for tile in tiles_for(staff.role)]
    return render_template("console/dashboard.html", tiles=tiles, scope=visible_buildings(staff))


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
