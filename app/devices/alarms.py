"""Alarms, one model for every kind (ISA-18.2 states): raise (one active per device and type; repeats count),
clear, and the staff's acknowledge, assign, shelve, suppress, confirm, reject and resolve, each with a
timeline entry. Chattering (3 raises in 60 s) and floods (more than 10 new alarms in 10 minutes in a
community) are grouped instead of paging again. Residents hear of an alarm only through the confirm
listeners, after staff confirm it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core import outbox
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.devices.models import SEVERITIES, Alarm, AlarmEntry, Device

log = logging.getLogger(__name__)
ALARM_ROLES = ("admin", "property", "repair_worker", "steward")  # may see and handle alarms
PAGED_ROLES = ("property", "repair_worker", "steward")  # paged for the buildings in their scope
ACTIVE = ("active_unack", "active_ack")
CHATTER_WINDOW, CHATTER_COUNT = timedelta(seconds=60), 3
FLOOD_WINDOW, FLOOD_COUNT = timedelta(minutes=10), 10  # more than this many new alarms is a flood
MAX_SHELVE = timedelta(hours=24)
MAX_SUPPRESS = timedelta(days=30)
ConfirmListener = Callable[[Session, Alarm, datetime], None]
_confirm_listeners: dict[str, list[ConfirmListener]] = {}


def add_confirm_listener(alarm_type: str, fn: ConfirmListener) -> None:
    """Call fn(session, alarm, now) when staff confirm an alarm of this type (to tell residents)."""
    found = _confirm_listeners.setdefault(alarm_type, [])
    key = (fn.__module__, fn.__qualname__)
    if all((f.__module__, f.__qualname__) != key for f in found):
        found.append(fn)


def add_entry(session: Session, alarm: Alarm, kind: str, text: str = "", *, now: datetime,
              staff_id: int | None = None) -> AlarmEntry:
    """Add a line to the alarm's timeline."""
    row = AlarmEntry(alarm_id=alarm.id, at=now, kind=kind, staff_id=staff_id, text=(text or "")[:1000])
    session.add(row)
    return row


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _active(session: Session, community_id: int, device_id: int | None, type: str, location: str) -> Alarm | None:
    query = select(Alarm).where(Alarm.community_id == community_id, Alarm.type == type, Alarm.state.in_(ACTIVE))
    if device_id is not None:
        query = query.where(Alarm.device_id == device_id)
    else:
        query = query.where(Alarm.device_id.is_(None), Alarm.location == location)
    return session.scalars(query.order_by(Alarm.id.desc()).limit(1)).first()


def raise_alarm(session: Session, *, community_id: int, type: str, severity: str, now: datetime,
                device_id: int | None = None, building_id: int | None = None, location: str = "",
                details: dict | None = None) -> Alarm:
    """Raise an alarm, or count a repeat of the active one for this device and type; new ones are paged
    unless grouped as chattering or a flood."""
    if severity not in SEVERITIES:
        raise ValidationFailed(f"未知的告警级别：{severity}", code="invalid_severity")
    device = session.get(Device, device_id) if device_id is not None else None
    if device is not None:
        building_id = building_id if building_id is not None else device.building_id
        location = location or device.location or device.name
    location = (location or "")[:100]
    existing = _active(session, community_id, device_id, type, location)
    if existing is not None:
        existing.repeat_count += 1
        existing.last_repeat_at = now
        if details:
            existing.details = {**(existing.details or {}), **details}
        if _rank(severity) < _rank(existing.severity):
            existing.severity = severity
        add_entry(session, existing, "repeat", f"再次触发（第 {existing.repeat_count + 1} 次）", now=now)
        return existing
    alarm = Alarm(community_id=community_id, device_id=device_id, type=type, severity=severity, state="active_unack",
                  building_id=building_id, location=location, raised_at=now, details=dict(details or {}),
                  repeat_count=0, escalation_level=0, suppressed=False)
    session.add(alarm)
    session.flush()
    add_entry(session, alarm, "raised", f"{location or '未知位置'}：{type}（{severity}）", now=now)
    page = _group(session, alarm, now)
    if page:
        outbox.enqueue(session, "app.devices.jobs.page_alarm", alarm.id, queue="high",
                       retries={"max": 3, "interval": [10, 30, 60]})  # WeChat Work down a while: page again
    return alarm


def _group(session: Session, alarm: Alarm, now: datetime) -> bool:
    """Group a new alarm as chattering or part of a flood; True when it should be paged (alone, or as the
    flood's one summary page)."""
    same = select(Alarm).where(Alarm.community_id == alarm.community_id, Alarm.type == alarm.type,
                               Alarm.raised_at >= now - CHATTER_WINDOW)
    same = same.where(Alarm.device_id == alarm.device_id) if alarm.device_id is not None else \
        same.where(Alarm.device_id.is_(None), Alarm.location == alarm.location)
    recent = list(session.scalars(same))
    if len(recent) >= CHATTER_COUNT:
        key = next((a.group_key for a in recent if a.group_key and a.group_key.startswith("chatter:")), None)
        key = key or f"chatter:{alarm.id}"
        for other in recent:
            other.group_key = other.group_key or key
        alarm.group_key = key
        add_entry(session, alarm, "note", f"抖动：60 秒内第 {len(recent)} 次，归组不再单独通知", now=now)
        return False
    if alarm.severity == "critical":  # a fire or a falling object is paged on its own, flood or not (ISA-18.2)
        return True
    window = select(Alarm).where(Alarm.community_id == alarm.community_id, Alarm.raised_at >= now - FLOOD_WINDOW)
    count = session.scalar(select(func.count()).select_from(window.subquery())) or 0
    if count <= FLOOD_COUNT:
        return True
    key = session.scalar(select(Alarm.group_key).where(Alarm.community_id == alarm.community_id,
                                                       Alarm.raised_at >= now - FLOOD_WINDOW,
                                                       Alarm.group_key.like("flood:%"), Alarm.id != alarm.id)
                         .order_by(Alarm.id.desc()).limit(1))
    alarm.group_key = key or f"flood:{alarm.id}"
    add_entry(session, alarm, "note", f"告警泛滥：10 分钟内 {count} 条新告警，归组", now=now)
    return key is None  # the flood's first grouped alarm pages once, as the flood's summary


def clear_alarm(session: Session, *, device_id: int, type: str, now: datetime, text: str = "") -> Alarm | None:
    """The condition is gone: clear the device's active alarm of this type (it stays to acknowledge if not yet)."""
    alarm = session.scalars(select(Alarm).where(Alarm.device_id == device_id, Alarm.type == type,
                                                Alarm.state.in_(ACTIVE)).order_by(Alarm.id.desc()).limit(1)).first()
    if alarm is None:
        return None
    _clear(session, alarm, now, text or "条件已恢复")
    return alarm


def _clear(session: Session, alarm: Alarm, now: datetime, text: str, staff_id: int | None = None) -> None:
    alarm.state = "cleared" if alarm.state == "active_ack" else "cleared_unack"
    alarm.cleared_at = now
    add_entry(session, alarm, "clear", text, now=now, staff_id=staff_id)


def _ack(session: Session, alarm: Alarm, staff: Staff, now: datetime, text: str = "") -> bool:
    if alarm.state not in ("active_unack", "cleared_unack"):
        return False
    alarm.state = "active_ack" if alarm.state == "active_unack" else "cleared"
    alarm.acked_at = now
    add_entry(session, alarm, "ack", text or f"{staff.name} 已确认收到", now=now, staff_id=staff.id)
    return True


def may_handle(staff: Staff, alarm: Alarm) -> bool:
    """Whether a staff member may see and handle this alarm (community, role, building scope)."""
    if staff.community_id != alarm.community_id or staff.role not in ALARM_ROLES or not staff.active:
        return False
    if staff.role == "admin" or alarm.building is None:
        return True
    return staff.covers_building(alarm.building.number)


def get_alarm(session: Session, alarm_id: int, staff: Staff) -> Alarm:
    """The alarm if this staff member may handle it (404 otherwise, 403 for the wrong role)."""
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or alarm.community_id != staff.community_id:
        raise NotFound("没有这条告警", code="alarm_not_found")
    if not may_handle(staff, alarm):
        raise Forbidden("这条告警不在您负责的范围", code="alarm_out_of_scope")
    return alarm


def acknowledge(session: Session, alarm_id: int, staff: Staff, *, now: datetime, note: str = "") -> Alarm:
    """Staff saw the alarm: active-unacknowledged becomes acknowledged (again: nothing changes)."""
    alarm = get_alarm(session, alarm_id, staff)
    _ack(session, alarm, staff, now, note)
    return alarm


def resolve(session: Session, alarm_id: int, staff: Staff, *, now: datetime, note: str = "") -> Alarm:
    """Staff handled it (处理完毕): acknowledged and cleared."""
    alarm = get_alarm(session, alarm_id, staff)
    _ack(session, alarm, staff, now)
    if alarm.state in ACTIVE:
        _clear(session, alarm, now, note or f"{staff.name} 处理完毕", staff.id)
    return alarm


def assign(session: Session, alarm_id: int, staff: Staff, *, assignee_id: int, now: datetime) -> Alarm:
    """Give the alarm to a staff member of the community who may handle it."""
    alarm = get_alarm(session, alarm_id, staff)
    assignee = session.get(Staff, assignee_id)
    if assignee is None or not may_handle(assignee, alarm):
        raise ValidationFailed("只能指派给负责这栋楼的在岗人员", code="invalid_assignee")
    alarm.assignee_id, alarm.assigned_at = assignee.id, now
    add_entry(session, alarm, "assign", f"{staff.name} 指派给 {assignee.name}", now=now, staff_id=staff.id)
    return alarm


def shelve(session: Session, alarm_id: int, staff: Staff, *, minutes: int, reason: str, now: datetime) -> Alarm:
    """Shelve for a while with a reason (no escalation or reminders until then); 0 minutes unshelves."""
    alarm = get_alarm(session, alarm_id, staff)
    reason = (reason or "").strip()[:200]
    if minutes == 0:
        alarm.shelved_until, alarm.shelve_reason = None, None
        add_entry(session, alarm, "shelve", f"{staff.name} 取消搁置", now=now, staff_id=staff.id)
        return alarm
    if not reason:
        raise ValidationFailed("搁置需要填写原因", code="shelve_reason_required")
    if minutes < 0 or timedelta(minutes=minutes) > MAX_SHELVE:
        raise ValidationFailed("搁置时长应在 1 分钟到 24 小时之间", code="invalid_duration")
    alarm.shelved_until, alarm.shelve_reason = now + timedelta(minutes=minutes), reason
    add_entry(session, alarm, "shelve", f"{staff.name} 搁置 {minutes} 分钟：{reason}", now=now, staff_id=staff.id)
    return alarm


def suppress(session: Session, alarm_id: int, staff: Staff, *, minutes: int, now: datetime,
             reason: str = "") -> Alarm:
    """Suppress (e.g. the device is under repair) until an expiry: hidden from the default list, not escalated."""
    alarm = get_alarm(session, alarm_id, staff)
    if minutes == 0:
        alarm.suppressed, alarm.suppressed_until = False, None
        add_entry(session, alarm, "suppress", f"{staff.name} 取消屏蔽", now=now, staff_id=staff.id)
        return alarm
    if minutes < 0 or timedelta(minutes=minutes) > MAX_SUPPRESS:
        raise ValidationFailed("屏蔽时长应在 1 分钟到 30 天之间", code="invalid_duration")
    alarm.suppressed, alarm.suppressed_until = True, now + timedelta(minutes=minutes)
    add_entry(session, alarm, "suppress", f"{staff.name} 屏蔽 {minutes} 分钟{'：' + reason if reason else ''}",
              now=now, staff_id=staff.id)
    return alarm


def confirm(session: Session, alarm_id: int, staff: Staff, *, now: datetime, note: str = "") -> Alarm:
    """Staff confirm the alarm is real; the confirm listeners then tell whom they must."""
    alarm = get_alarm(session, alarm_id, staff)
    if alarm.confirmed is not None:
        raise Conflict("这条告警已确认或已驳回", code="alarm_already_decided")
    _ack(session, alarm, staff, now)
    alarm.confirmed = True
    add_entry(session, alarm, "confirm", note or f"{staff.name} 确认属实", now=now, staff_id=staff.id)
    for fn in list(_confirm_listeners.get(alarm.type, ())):
        try:
            with session.begin_nested():
                fn(session, alarm, now)
        except Exception:
            log.exception("confirm listener %s failed on alarm %s", fn.__qualname__, alarm.id)
            add_entry(session, alarm, "note", "确认后的通知未能完成，请联系管理员", now=now)
    return alarm


def reject(session: Session, alarm_id: int, staff: Staff, *, now: datetime, note: str = "") -> Alarm:
    """Staff found a false alarm: nobody is told; it is acknowledged and cleared."""
    alarm = get_alarm(session, alarm_id, staff)
    if alarm.confirmed is not None:
        raise Conflict("这条告警已确认或已驳回", code="alarm_already_decided")
    _ack(session, alarm, staff, now)
    alarm.confirmed = False
    add_entry(session, alarm, "reject", note or f"{staff.name} 判定为误报", now=now, staff_id=staff.id)
    if alarm.state in ACTIVE:
        _clear(session, alarm, now, "误报，已关闭", staff.id)
    return alarm


def end_expired(session: Session, now: datetime) -> int:
    """Lift shelving and suppression whose time is up (each with a timeline entry); returns how many."""
    ended = 0
    for alarm in session.scalars(select(Alarm).where(Alarm.shelved_until.is_not(None), Alarm.shelved_until <= now)):
        alarm.shelved_until, alarm.shelve_reason = None, None
        add_entry(session, alarm, "shelve", "搁置到期，恢复提醒", now=now)
        ended += 1
    for alarm in session.scalars(select(Alarm).where(Alarm.suppressed.is_(True), Alarm.suppressed_until <= now)):
        alarm.suppressed, alarm.suppressed_until = False, None
        add_entry(session, alarm, "suppress", "屏蔽到期，恢复", now=now)
        ended += 1
    return ended


def timeline(session: Session, alarm_id: int) -> list[AlarmEntry]:
    """The alarm's timeline, oldest first."""
    return list(session.scalars(select(AlarmEntry).where(AlarmEntry.alarm_id == alarm_id)
                                .order_by(AlarmEntry.at, AlarmEntry.id)))

