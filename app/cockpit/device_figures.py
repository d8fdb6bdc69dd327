"""The counts the devices and welfare features hold: active alarms by severity and building, devices offline,
the latest alarms and escalations for the live list, open welfare checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

ACTIVE_ALARM_STATES = ("active_unack", "active_ack")
URGENT_SEVERITIES = ("critical", "major")
RECENT = 10  # rows in the live list when the page opens


def alarms(session: Session, community_id: int) -> dict:
    """Active alarms by severity, and by building split into urgent (critical, major) and other."""
    from app.devices.models import Alarm  # noqa: PLC0415 - read only when devices are installed

    active = (Alarm.community_id == community_id) & Alarm.state.in_(ACTIVE_ALARM_STATES)
    by_severity = dict(session.execute(select(Alarm.severity, func.count(Alarm.id)).where(active)
                                       .group_by(Alarm.severity)).all())
    by_building: dict[str, dict[str, int]] = {}
    for building_id, severity, count in session.execute(
            select(Alarm.building_id, Alarm.severity, func.count(Alarm.id))
            .where(active, Alarm.building_id.is_not(None)).group_by(Alarm.building_id, Alarm.severity)):
        key = "urgent" if severity in URGENT_SEVERITIES else "other"
        slot = by_building.setdefault(str(building_id), {"urgent": 0, "other": 0})
        slot[key] += count
    return {"active": sum(by_severity.values()), "by_severity": by_severity, "by_building": by_building}


def devices(session: Session, community_id: int) -> dict:
    """Active devices, those offline, and offline ones by building id."""
    from app.devices.models import Device  # noqa: PLC0415

    mine = (Device.community_id == community_id) & Device.active.is_(True)
    total = session.scalar(select(func.count(Device.id)).where(mine)) or 0
    offline = dict(session.execute(select(Device.building_id, func.count(Device.id))
                                   .where(mine, Device.online.is_(False)).group_by(Device.building_id)).all())
    return {"total": total, "offline": sum(offline.values()),
            "offline_by_building": {str(k): v for k, v in offline.items() if k is not None}}


def recent_alarms(session: Session, community_id: int) -> list[dict]:
    """The newest active alarms, as the live list shows them (place and kind, never a person)."""
    from app.devices.models import Alarm  # noqa: PLC0415

    rows = session.scalars(select(Alarm).where(Alarm.community_id == community_id,
                                               Alarm.state.in_(ACTIVE_ALARM_STATES))
                           .order_by(Alarm.id.desc()).limit(RECENT))
    return [alarm_event(a) for a in rows]


def alarm_event(alarm) -> dict:
    """One alarm for the live list and the stream."""
    return {"kind": "alarm", "id": alarm.id, "community_id": alarm.community_id, "type": alarm.type,
            "severity": alarm.severity, "location": alarm.location or "", "at": _iso(alarm.raised_at)}


def recent_escalations(session: Session, community_id: int) -> list[dict]:
    """The newest conversations waiting for a person (building and urgency only; no name, no words)."""
    from app.escalations.models import Escalation  # noqa: PLC0415

    rows = session.scalars(select(Escalation).where(Escalation.community_id == community_id,
                                                    Escalation.status == "waiting")
                           .order_by(Escalation.id.desc()).limit(RECENT))
    return [escalation_event(e) for e in rows]


def escalation_event(escalation) -> dict:
    """One escalation for the live list and the stream."""
    return {"kind": "escalation", "id": escalation.id, "community_id": escalation.community_id,
            "building": escalation.building or "", "urgent": bool(escalation.urgent),
            "trigger": escalation.trigger, "at": _iso(escalation.created_at)}


def welfare(session: Session, community_id: int) -> dict:
    """Open welfare checks, by how far they went up (0 steward, 1 grid worker, 2 family contact)."""
    from app.welfare.models import WelfareCheck  # noqa: PLC0415 - read only when welfare is installed

    by_level = dict(session.execute(
        select(WelfareCheck.level, func.count(WelfareCheck.id))
        .where(WelfareCheck.community_id == community_id, WelfareCheck.status == "open")
        .group_by(WelfareCheck.level)).all())
    return {"open": sum(by_level.values()), "by_level": {str(k): v for k, v in by_level.items()}}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
