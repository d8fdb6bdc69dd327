"""The community's named places in the console (admin, property): the list residents' reports are matched
against, adding one with the other names residents use, hiding and restoring."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.community import places
from app.core.db import db, unit_of_work
from app.core.errors import AppError
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

EDITORS = ("admin", "property")

add_nav("console.places", "小区地点", EDITORS)


@bp.get("/places", endpoint="places")
@require_role(*EDITORS)
def places_page():
    """Every named place (hidden ones marked) and the form to add one; ?try= shows what a message matches."""
    staff = current_staff()
    rows = places.named(db.session, staff.community_id, active_only=False)
    tried = request.args.get("try", "").strip()[:100]
    match = places.find([p for p in rows if p.active], tried) if tried else None
    return render_template("console/places.html", rows=rows, kinds=places.KINDS, tried=tried, match=match)


@bp.post("/places")
@require_role(*EDITORS)
@unit_of_work
def add_place():
    """Add a named place."""
    form, staff = request.form, current_staff()
    try:
        place = places.add_place(db.session, staff.community_id, name=form.get("name", ""),
                                 aliases=form.get("aliases", ""), kind=form.get("kind", "other"),
                                 building=form.get("building"))
    except AppError as err:
        return refused(err, redirect(url_for("console.places"), code=303))
    flash(f"已添加地点“{place.name}”", "success")
    return redirect(url_for("console.places"), code=303)


@bp.post("/places/<int(max=2147483647):place_id>/active")
@require_role(*EDITORS)
@unit_of_work
def set_place_active(place_id: int):
    """Hide a place from matching (active=0) or restore it (active=1)."""
    active = request.form.get("active") == "1"
    try:
        place = places.set_active(db.session, current_staff().community_id, place_id, active)
    except AppError as err:
        return refused(err, redirect(url_for("console.places"), code=303))
    flash(f"地点“{place.name}”已{'恢复' if active else '停用'}", "success")
    return redirect(url_for("console.places"), code=303)
