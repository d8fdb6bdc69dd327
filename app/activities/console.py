"""Activities in the console for organisers: activities (create, seats, cancel, announce), the sign-up list
with the waitlist, check-in by staff, stewards signing up residents without phones; clubs and members."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.activities import activities, announce, clubs, signups
from app.activities.activities import EDITOR_ROLES, local_to_utc
from app.activities.models import ROLE_LABELS, STATUS_LABELS, Signup
from app.community.models import Building, Household, Resident, Unit
from app.core.db import db, unit_of_work
from app.core.errors import AppError, Forbidden, NotFound, ValidationFailed
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

_ID = "<int(max=2147483647):activity_id>"
_CLUB = "<int(max=2147483647):club_id>"
STEWARD_ROLES = ("admin", "steward")
ANNOUNCE_ROLES = ("admin", "property", "committee")

add_nav("console.activities_list", "社区活动", EDITOR_ROLES)
add_nav("console.clubs_list", "兴趣社团", EDITOR_ROLES)


def _back(activity_id: int):
    return redirect(url_for("console.activities_detail", activity_id=activity_id), code=303)


def _int(name: str, default: int = 0) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 6:
        raise ValidationFailed("请填写数字", code="bad_number")
    return int(raw)


@bp.get("/activities")
@require_role(*EDITOR_ROLES)
def activities_list():
    """Activities to come (cancelled ones marked) and the form to add a one-off activity."""
    rows = activities.upcoming(db.session, current_staff().community_id, include_cancelled=True, limit=200)
    return render_template("activities/list.html", rows=rows, when=signups.when_label)


@bp.post("/activities")
@require_role(*EDITOR_ROLES)
@unit_of_work
def activities_add():
    """A one-off activity."""
    staff, form = current_staff(), request.form
    try:
        try:
            day = date.fromisoformat(form.get("day", ""))
            starts_at = local_to_utc(day, form.get("time", "")[:5])
        except ValueError:
            raise ValidationFailed("请填写日期和时间", code="bad_time") from None
        activity = activities.create_activity(
            db.session, staff.community_id, title=form.get("title", ""), starts_at=starts_at,
            minutes=_int("minutes", 90), place=form.get("place", ""), capacity=_int("capacity"),
            description=form.get("description", ""), staff=staff)
    except AppError as err:
        return refused(err, redirect(url_for("console.activities_list"), code=303))
    flash(f"已添加活动：{activity.title}（签到码 {activity.checkin_code}）", "success")
    return _back(activity.id)


@bp.get(f"/activities/{_ID}")
@require_role(*EDITOR_ROLES)
def activities_detail(activity_id: int):
    """One activity: seats, its sign-up list and waitlist, check-in, steward sign-up and announcing."""
    activity = activities.get(db.session, activity_id, current_staff().community_id)
    rows = signups.roster(db.session, activity)
    return render_template("activities/detail.html", a=activity, rows=rows, when=signups.when_label,
                           labels=STATUS_LABELS, staff=current_staff(), steward_roles=STEWARD_ROLES,
                           announce_roles=ANNOUNCE_ROLES)


@bp.post(f"/activities/{_ID}/checkin/<int(max=2147483647):signup_id>")
@require_role(*EDITOR_ROLES)
@unit_of_work
def activities_checkin(activity_id: int, signup_id: int):
    """Staff mark a resident as arrived."""
    activity = activities.get(db.session, activity_id, current_staff().community_id)
    row = db.session.get(Signup, signup_id)
    if row is None or row.activity_id != activity.id:
        raise NotFound("没有这条报名", code="signup_not_found")
    try:
        signups.check_in(db.session, row, by="staff")
    except AppError as err:
        return refused(err, _back(activity_id))
    flash(f"{row.resident.name} 已签到", "success")
    return _back(activity_id)


def find_resident(community_id: int, phone: str, building: str, room: str) -> Resident:
    """A resident of the community by phone, or by building and room."""
    phone, building, room = phone.strip(), building.strip(), room.strip()
    query = select(Resident).where(Resident.community_id == community_id, Resident.status == "active")
    if phone:
        query = query.where(Resident.phone == phone)
    elif building and room:
        query = (query.join(Household, Household.id == Resident.household_id).join(Unit, Unit.id == Household.unit_id)
                 .join(Building, Building.id == Unit.building_id)
                 .where(Building.number == building, Household.room == room))
    else:
        raise ValidationFailed("请填写手机号，或楼号和房号", code="missing_resident")
    found = list(db.session.scalars(query.limit(5)))
    name = request.form.get("name", "").strip()
    if name:
        found = [r for r in found if r.name == name] or found
    if not found:
        raise NotFound("没有找到这位住户", code="resident_not_found")
    return found[0]


@bp.post(f"/activities/{_ID}/steward")
@require_role(*STEWARD_ROLES)
@unit_of_work
def activities_steward_signup(activity_id: int):
    """A steward signs up a resident who does not use a phone (within the steward's buildings)."""
    staff, form = current_staff(), request.form
    try:
        resident = find_resident(staff.community_id, form.get("phone", ""), form.get("building", ""),
                                 form.get("room", ""))
        building = resident.household.unit.building.number if resident.household else ""
        if not staff.covers_building(building):
            raise Forbidden("这位住户不在您负责的楼栋", code="out_of_scope")
        row = signups.sign_up(db.session, resident, activity_id, source="steward", staff=staff)
    except AppError as err:
        return refused(err, _back(activity_id))
    flash(f"已为{resident.name}{'报名' if row.status == 'confirmed' else '登记候补'}", "success")
    return _back(activity_id)


@bp.post(f"/activities/{_ID}/capacity")
@require_role(*EDITOR_ROLES)
@unit_of_work
def activities_capacity(activity_id: int):
    """Change the seats; added seats go to the waitlist at once."""
    activity = activities.get(db.session, activity_id, current_staff().community_id)
    try:
        activities.set_capacity(db.session, activity, _int("capacity"))
    except AppError as err:
        return refused(err, _back(activity_id))
    flash("名额已更新", "success")
    return _back(activity_id)


@bp.post(f"/activities/{_ID}/cancel")
@require_role(*EDITOR_ROLES)
@unit_of_work
def activities_cancel(activity_id: int):
    """Call the activity off; everyone signed up is told."""
    activity = activities.get(db.session, activity_id, current_staff().community_id)
    told = activities.cancel_activity(db.session, activity, request.form.get("reason", ""))
    flash(f"活动已取消，已通知{told}人", "success")
    return _back(activity_id)


@bp.post(f"/activities/{_ID}/announce")
@require_role(*ANNOUNCE_ROLES)
@unit_of_work
def activities_announce(activity_id: int):
    """Announce the activity to an audience expression through a campaign (sent now, or kept as a draft)."""
    staff = current_staff()
    activity = activities.get(db.session, activity_id, staff.community_id)
    try:
        campaign = announce.announce(db.session, activity, staff, request.form.get("audience", ""),
                                     send=request.form.get("send") == "1", ip=request.remote_addr)
    except AppError as err:
        return refused(err, _back(activity_id))
    flash(f"已{'安排发送' if campaign.status == 'scheduled' else '存为草稿'}：群发 #{campaign.id}", "success")
    return _back(activity_id)


# ---- clubs -------------------------------------------------------------------------------------

@bp.get("/clubs")
@require_role(*EDITOR_ROLES)
def clubs_list():
    """The community's clubs and the form to add one."""
    rows = clubs.clubs_of(db.session, current_staff().community_id)
    counts = {c.id: len(clubs.members(db.session, c)) for c in rows}
    return render_template("activities/clubs.html", rows=rows, counts=counts, weekdays=signups.WEEKDAYS)


@bp.post("/clubs")
@require_role(*EDITOR_ROLES)
@unit_of_work
def clubs_add():
    """A club run by the staff member, with its recurring session if one is given."""
    staff, form = current_staff(), request.form
    try:
        club = clubs.create_club(db.session, staff.community_id, name=form.get("name", ""),
                                 description=form.get("description", ""), organiser=staff,
                                 every_weeks=_int("every_weeks"), weekday=_int("weekday"),
                                 session_time=form.get("session_time", "09:00")[:5] or "09:00",
                                 session_minutes=_int("session_minutes", 90), place=form.get("place", ""),
                                 capacity=_int("capacity"))
        made = clubs.generate_sessions(db.session, club)
    except AppError as err:
        return refused(err, redirect(url_for("console.clubs_list"), code=303))
    flash(f"已添加社团：{club.name}，生成{made}次活动", "success")
    return redirect(url_for("console.clubs_detail", club_id=club.id), code=303)


@bp.get(f"/clubs/{_CLUB}")
@require_role(*EDITOR_ROLES)
def clubs_detail(club_id: int):
    """A club's members with their roles, and the notice form."""
    club = clubs.get_club(db.session, club_id, current_staff().community_id)
    return render_template("activities/club.html", club=club, members=clubs.members(db.session, club),
                           roles=ROLE_LABELS, weekdays=signups.WEEKDAYS)


@bp.post(f"/clubs/{_CLUB}/notice")
@require_role(*EDITOR_ROLES)
@unit_of_work
def clubs_notice(club_id: int):
    """A notice to every member through notify."""
    club = clubs.get_club(db.session, club_id, current_staff().community_id)
    back = redirect(url_for("console.clubs_detail", club_id=club_id), code=303)
    try:
        told = clubs.notice(db.session, club, request.form.get("text", ""))
    except AppError as err:
        return refused(err, back)
    flash(f"已通知{told}位成员", "success")
    return back


@bp.post(f"/clubs/{_CLUB}/role/<int(max=2147483647):resident_id>")
@require_role(*EDITOR_ROLES)
@unit_of_work
def clubs_role(club_id: int, resident_id: int):
    """Change a member's role."""
    club = clubs.get_club(db.session, club_id, current_staff().community_id)
    back = redirect(url_for("console.clubs_detail", club_id=club_id), code=303)
    try:
        clubs.set_role(db.session, club, resident_id, request.form.get("role", ""))
    except AppError as err:
        return refused(err, back)
    flash("角色已更新", "success")
    return back
