"""Evidence of an alarm (clips and snapshots the camera keeps, with their SHA-256): recorded from the event,
kept 30 days, a legal hold that cleanup never deletes, and exports that are logged (who, when, what)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.clock import to_local
from app.core.errors import NotFound, ValidationFailed
from app.devices.models import Alarm, AlarmEntry, Device, DeviceEvent
from app.devices.rule_models import Evidence, EvidenceExport

RETENTION = timedelta(days=30)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ITEMS = 20  # per event: more than a camera ever sends


def _time(value, default: datetime | None) -> datetime | None:
    """An ISO 8601 time (naive = UTC) or epoch seconds as naive UTC; the default when absent or bad."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
        if isinstance(value, str) and value:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        pass
    return default


def record(session: Session, alarm: Alarm, camera: Device, event: DeviceEvent, now: datetime) -> list[Evidence]:
    """Store the event's clips and snapshots ({"ref", "sha256", "start"/"at", "end"}) as the alarm's evidence."""
    payload = event.payload or {}
    at = event.occurred_at or now
    rows = []
    for kind, key in (("clip", "clips"), ("snapshot", "snapshots")):
        items = payload.get(key) or []
        if isinstance(items, dict | str):
            items = [items]
        for item in list(items)[:MAX_ITEMS]:
            item = {"ref": item} if isinstance(item, str) else item
            if not isinstance(item, dict) or not str(item.get("ref") or "").strip():
                continue
            digest = str(item.get("sha256") or "").lower()
            started = _time(item.get("start") or item.get("at"), at)
            rows.append(Evidence(
                community_id=camera.community_id, alarm_id=alarm.id, camera_id=camera.id, event_id=event.event_id,
                kind=kind, ref=str(item["ref"]).strip()[:500], sha256=digest if SHA256.match(digest) else None,
                started_at=started, ended_at=_time(item.get("end"), None),
                created_at=now, expires_at=max(now, started) + RETENTION, legal_hold=False))
    session.add_all(rows)
    session.flush()
    return rows


def for_alarm(session: Session, alarm_id: int) -> list[Evidence]:
    """An alarm's evidence, oldest first."""
    return list(session.scalars(select(Evidence).where(Evidence.alarm_id == alarm_id)
                                .order_by(Evidence.started_at, Evidence.id)))


def _alarm_of(session: Session, alarm_id: int, staff: Staff) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None or alarm.community_id != staff.community_id:
        raise NotFound("没有这条告警", code="alarm_not_found")
    return alarm


def set_hold(session: Session, staff: Staff, alarm_id: int, hold: bool, reason: str, now: datetime) -> int:
    """Put the alarm's evidence under legal hold (kept past 30 days, never cleaned) or lift it; rows changed."""
    alarm = _alarm_of(session, alarm_id, staff)
    reason = (reason or "").strip()[:200]
    if hold and not reason:
        raise ValidationFailed("请填写保全原因（如：业主报警、法院调取）", code="hold_reason_required")
    rows = for_alarm(session, alarm.id)
    for row in rows:
        row.legal_hold, row.hold_reason, row.hold_by_id, row.hold_at = hold, reason or None, staff.id, now
        if not hold:
            row.expires_at = max(row.expires_at, now + timedelta(days=1))  # a day to notice a mistaken release
    text = f"证据保全：{reason}" if hold else "解除证据保全"
    session.add(AlarmEntry(alarm_id=alarm.id, at=now, kind="note", staff_id=staff.id, text=text))
    session.flush()
    return len(rows)


def export(session: Session, staff: Staff, alarm_id: int, now: datetime) -> tuple[bytes, EvidenceExport]:
    """The alarm's evidence as a JSON manifest (refs, hashes, camera, times), logged with who and when."""
    alarm = _alarm_of(session, alarm_id, staff)
    rows = for_alarm(session, alarm.id)
    manifest = {
        "alarm": {"id": alarm.id, "type": alarm.type, "location": alarm.location,
                  "raised_at": to_local(alarm.raised_at).isoformat()},
        "exported_by": {"id": staff.id, "name": staff.name}, "exported_at": to_local(now).isoformat(),
        "items": [{"kind": r.kind, "ref": r.ref, "sha256": r.sha256, "camera_id": r.camera_id,
                   "event_id": r.event_id, "started_at": to_local(r.started_at).isoformat(),
                   "ended_at": to_local(r.ended_at).isoformat() if r.ended_at else None,
                   "legal_hold": r.legal_hold} for r in rows],
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    log = EvidenceExport(alarm_id=alarm.id, staff_id=staff.id, at=now, items=len(rows),
                         manifest_sha256=hashlib.sha256(body).hexdigest())
    session.add(log)
    session.add(AlarmEntry(alarm_id=alarm.id, at=now, kind="note", staff_id=staff.id,
                           text=f"{staff.name} 导出证据 {len(rows)} 项"))
    session.flush()
    return body, log


def exports(session: Session, alarm_id: int) -> list[EvidenceExport]:
    """Who exported an alarm's evidence and when, newest first."""
    return list(session.scalars(select(EvidenceExport).where(EvidenceExport.alarm_id == alarm_id)
                                .order_by(EvidenceExport.at.desc(), EvidenceExport.id.desc())))


def cleanup(session: Session, now: datetime) -> int:
    """Delete evidence past its 30 days that no legal hold keeps; how many rows went."""
    result = session.execute(delete(Evidence).where(Evidence.expires_at < now, Evidence.legal_hold.is_(False))
                             .execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount or 0
