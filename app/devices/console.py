"""Alarms and devices in the console: the alarm list with filters and live updates (short polling of a cheap
endpoint), an alarm's page with its timeline, the rules' extras and the staff's actions, and the device list."""

from __future__ import annotations

from pathlib import Path

from flask import flash, jsonify, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, select

from app.community.models import Building, Staff
from app.core.clock import utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, ValidationFailed
from app.devices import alarms, commands, rules
from app.devices.alarms import ALARM_ROLES
from app.devices.models import (
    ALARM_STATES,
    KIND_LABELS,
    SEVERITIES,
    SEVERITY_LABELS,
    STATE_LABELS,
    TYPE_LABELS,
    Alarm,
    AlarmEntry,
    Device,
    DeviceCommand,
)
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

_ID = "<int(max=2147483647):alarm_id>"
ACTIONS = ("ack", "resolve", "assign", "shelve", "suppress", "confirm", "reject")
LIVE_JS = Path(__file__).parent / "static" / "live.js"
LABELS = {"types": TYPE_LABELS, "severities": SEVERITY_LABELS, "states": STATE_LABELS, "kinds": KIND_LABELS}

add_nav("console.alarm_list", "告警", ALARM_ROLES)
add_nav("console.device_list", "设备", ALARM_ROLES)


def _visible(staff: Staff, rows: list[Alarm]) -> list[Alarm]:
    return [a for a in rows if alarms.may_handle(staff, a)]


def _live_version(community_id: int) -> str:
    latest = db.session.scalar(select(func.max(AlarmEntry.id)).join(Alarm, Alarm.id == AlarmEntry.alarm_id)
                               .where(Alarm.community_id == community_id)) or 0
    return str(latest)


@bp.get("/alarms")
@require_role(*ALARM_ROLES)
def alarm_list():
    """The community's alarms (active by default), filtered by state, severity, type and building."""
    staff, args = current_staff(), request.args
    state, severity = args.get("state", "active"), args.get("severity", "")
    kind, building = args.get("type", ""), args.get("building", "")
    query = select(Alarm).where(Alarm.community_id == staff.community_id)
    if state == "active":
        query = query.where(Alarm.state.in_(alarms.ACTIVE), Alarm.suppressed.is_(False))
    elif state == "suppressed":
        query = query.where(Alarm.suppressed.is_(True))
    elif state == "shelved":
        query = query.where(Alarm.shelved_until > utcnow())
    elif state in ALARM_STATES:
        query = query.where(Alarm.state == state)
    if severity in SEVERITIES:
        query = query.where(Alarm.severity == severity)
    if kind in TYPE_LABELS:
        query = query.where(Alarm.type == kind)
    if building:
        query = query.join(Building, Building.id == Alarm.building_id).where(Building.number == building[:10])
    rows = _visible(staff, list(db.session.scalars(query.order_by(Alarm.raised_at.desc(), Alarm.id.desc())
                                                   .limit(300))))
    buildings = db.session.scalars(select(Building.number).where(Building.community_id == staff.community_id)
                                   .order_by(Building.position)).all()
    return render_template("devices/alarms.html", rows=rows, labels=LABELS, now=utcnow(), buildings=buildings,
                           f={"state": state, "severity": severity, "type": kind, "building": building},
                           version=_live_version(staff.community_id))


@bp.get("/alarms/live")
@require_role(*ALARM_ROLES)
def alarm_live():
    """A cheap answer for the list's short polling (every 5 s): the newest timeline line's id."""
    return jsonify({"version": _live_version(current_staff().community_id)})


@bp.get("/alarms/live.js")
@require_role(*ALARM_ROLES)
def alarm_live_js():
    """The list's polling script (the console's CSP allows only scripts from here)."""
    return send_file(LIVE_JS, mimetype="text/javascript", max_age=0)


@bp.get(f"/alarms/{_ID}")
@require_role(*ALARM_ROLES)
def alarm_detail(alarm_id: int):
    """One alarm: state, details, timeline, the rules' extras (evidence, façade), commands and actions."""
    staff = current_staff()
    alarm = alarms.get_alarm(db.session, alarm_id, staff)
    team = [s for s in db.session.scalars(select(Staff).where(Staff.community_id == staff.community_id,
                                                              Staff.active.is_(True)).order_by(Staff.name))
            if alarms.may_handle(s, alarm)]
    sent = db.session.scalars(select(DeviceCommand).where(DeviceCommand.alarm_id == alarm.id)
                              .order_by(DeviceCommand.id)).all()
    return render_template("devices/alarm.html", a=alarm, entries=alarms.timeline(db.session, alarm.id),
                           extras=rules.alarm_extras(db.session, alarm), team=team, commands=sent, labels=LABELS,
                           now=utcnow(), staff_names={s.id: s.name for s in team})


def _minutes(name: str) -> int:
    raw = request.form.get(name, "").strip()
    if not raw.isdigit():
        raise ValidationFailed("请填写时长（分钟）", code="invalid_duration")
    return int(raw)


@bp.post(f"/alarms/{_ID}/<any({', '.join(ACTIONS)}):action>")
@require_role(*ALARM_ROLES)
@unit_of_work
def alarm_action(alarm_id: int, action: str):
    """Acknowledge, resolve, assign, shelve, suppress, confirm or reject an alarm."""
    staff, form, now = current_staff(), request.form, utcnow()
    note = form.get("note", "").strip()[:500]
    back = redirect(url_for("console.alarm_detail", alarm_id=alarm_id), code=303)
    try:
        if action == "ack":
            alarms.acknowledge(db.session, alarm_id, staff, now=now, note=note)
        elif action == "resolve":
            alarms.resolve(db.session, alarm_id, staff, now=now, note=note)
        elif action == "assign":
            assignee = form.get("assignee_id", "")
            if not assignee.isdigit():
                raise ValidationFailed("请选择指派给谁", code="invalid_assignee")
            alarms.assign(db.session, alarm_id, staff, assignee_id=int(assignee), now=now)
        elif action == "shelve":
            alarms.shelve(db.session, alarm_id, staff, minutes=_minutes("minutes"), reason=form.get("reason", ""),
                          now=now)
        elif action == "suppress":
            alarms.suppress(db.session, alarm_id, staff, minutes=_minutes("minutes"), now=now,
                            reason=form.get("reason", "").strip()[:200])
        elif action == "confirm":
            alarms.confirm(db.session, alarm_id, staff, now=now, note=note)
        else:
            alarms.reject(db.session, alarm_id, staff, now=now, note=note)
    except AppError as err:
        if err.status in (403, 404):
            raise
        return refused(err, back)
    flash("已更新", "success")
    return back


@bp.get("/devices")
@require_role(*ALARM_ROLES)
def device_list():
    """The community's devices: kind, place, online state, last seen, battery, recent commands."""
    staff, kind = current_staff(), request.args.get("kind", "")
    query = select(Device).where(Device.community_id == staff.community_id)
    if kind in KIND_LABELS:
        query = query.where(Device.kind == kind)
    rows = db.session.scalars(query.order_by(Device.kind, Device.code)).all()
    recent = {d.id: commands.history(db.session, d.id, limit=1) for d in rows}
    return render_template("devices/devices.html", rows=rows, labels=LABELS, kind=kind, recent=recent, now=utcnow())
