"""The cockpit in the console: a community's board (figures, charts, live list), the street's communities side
by side for street admins, and the admins' page to make and revoke wall-screen links."""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for

from app.cockpit import board, demo, streets, tokens
from app.cockpit.models import DisplayToken
from app.cockpit.wall import event_stream
from app.community.health_access import session_ref
from app.community.models import Community, Staff
from app.core.clock import utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, Forbidden
from console.auth import SESSION_LOGIN_AT, SESSION_VERSION, current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

VIEWERS = ("admin", "property", "committee", "steward", "grid_worker", "doctor")
ADMINS = ("admin",)

add_nav("console.cockpit", "驾驶舱", VIEWERS)


def _community() -> Community:
    """The community asked for (?community=<id>), which must be one this staff member may open."""
    staff = current_staff()
    visible = streets.visible_communities(db.session, staff)
    wanted = request.args.get("community", type=int)
    if wanted is None:
        wanted = staff.community_id
    for community in visible:
        if community.id == wanted:
            return community
    raise Forbidden("您没有查看这个小区驾驶舱的权限", code="community_forbidden")


@bp.get("/cockpit")
@require_role(*VIEWERS)
def cockpit():
    """A community's board; the page loads its data and listens for live events."""
    staff = current_staff()
    community = _community()
    street = streets.street_of_admin(db.session, staff)
    return render_template(
        "cockpit/board.html", community=community, street=street,
        data_url=url_for("console.cockpit_data", community=community.id, health=1),
        stream_url=url_for("console.cockpit_stream", community=community.id),
        demo_wall=demo.demo_wall_path(db.session, staff, current_app.config))


@bp.get("/cockpit/data")
@require_role(*VIEWERS)
@unit_of_work
def cockpit_data():
    """The board's figures as JSON; with health=1 (the first load) the doctor's health colours, logged."""
    staff = current_staff()
    community = _community()
    health = None
    if request.args.get("health") == "1" and community.id == staff.community_id:
        health = board.health_colours(db.session, staff, current_app.config, ip=request.remote_addr,
                                      session_ref=session_ref(staff.id, session.get(SESSION_LOGIN_AT),
                                                              session.get(SESSION_VERSION)))
    return jsonify(board.community_board(db.session, community, utcnow(), current_app.config, health=health))


@bp.get("/cockpit/stream")
@require_role(*VIEWERS)
def cockpit_stream():
    """New alarms and escalations of the community as server-sent events."""
    staff_id = current_staff().id
    community = _community()

    def allowed(session_) -> bool:
        staff = session_.get(Staff, staff_id)
        return staff is not None and staff.active

    return event_stream([community.id], allowed)


@bp.get("/cockpit/street")
@require_role(*VIEWERS)
@unit_of_work
def cockpit_street():
    """The street's communities side by side, each one a link into its board."""
    street = streets.street_of_admin(db.session, current_staff())
    if street is None:
        raise Forbidden("您不是街道管理员", code="not_street_admin")
    rows = board.street_board(db.session, streets.communities_of(db.session, street.id), utcnow(),
                              current_app.config)
    return render_template("cockpit/street.html", street=street, rows=rows)


@bp.get("/cockpit/displays")
@require_role(*ADMINS)
def cockpit_displays():
    """The community's wall-screen links: who made them, when a screen last read, revoked or not."""
    staff = current_staff()
    return render_template("cockpit/displays.html", rows=tokens.listed(db.session, staff.community_id),
                           street=streets.street_of_admin(db.session, staff), new_url=None)


@bp.post("/cockpit/displays")
@require_role(*ADMINS)
@unit_of_work
def cockpit_display_create():
    """Make a wall-screen link; its address is shown this once."""
    staff = current_staff()
    try:
        row, token = tokens.create(db.session, staff, request.form.get("label", ""),
                                   street=request.form.get("scope") == "street")
    except AppError as err:
        return refused(err, redirect(url_for("console.cockpit_displays")))
    flash(f"已创建大屏链接“{row.label}”，请立即复制：离开本页后不再显示", "success")
    return render_template("cockpit/displays.html", rows=tokens.listed(db.session, staff.community_id),
                           street=streets.street_of_admin(db.session, staff),
                           new_url=url_for("cockpit.wall", token=token, _external=True))


@bp.post("/cockpit/displays/<int(max=2147483647):token_id>/revoke")
@require_role(*ADMINS)
@unit_of_work
def cockpit_display_revoke(token_id: int):
    """Revoke a wall-screen link: the screen shows that it was stopped within a poll."""
    try:
        row = tokens.revoke(db.session, current_staff(), token_id, utcnow())
    except AppError as err:
        return refused(err, redirect(url_for("console.cockpit_displays")))
    flash(f"已停用大屏链接“{row.label}”", "success")
    return redirect(url_for("console.cockpit_displays"))


def token_label(row: DisplayToken) -> str:
    """How a link's scope reads on the list."""
    return "街道大屏" if row.street_id else "小区大屏"
