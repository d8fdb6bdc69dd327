"""Occupancy reports from the camera system: device signatures, replays, and applying counts or
per-space states so that a duplicate changes nothing and a late, older report never overwrites newer state.

Signing (documented for the camera vendor): X-Parking-Device: <key id>, X-Parking-Timestamp: <unix seconds>,
X-Parking-Signature: hex(HMAC-SHA256(device secret, "<timestamp>." + raw body)).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.core.db import conflict_insert
from app.core.errors import AppError, Conflict, Forbidden, Unauthorized, ValidationFailed
from app.core.event_time import event_time
from app.core.sealed import seal, unseal
from app.parking.models import SPACE_KINDS, OccupancyEvent, ParkingDevice, ParkingSpace, ParkingZone
from app.parking.parking import record_sample

log = logging.getLogger(__name__)

TIMESTAMP_WINDOW = 300  # seconds a signed request stays valid
REPLAY_KEY = "parking:sig:{device}:{signature}"


class UnknownZone(AppError):
    code, status, message = "unknown_zone", 422, "没有这个停车区域"


class OverCapacity(AppError):
    code, status, message = "over_capacity", 422, "上报的车辆数超过了该区域的车位数"


@dataclass(frozen=True)
class Outcome:
    """What happened to one report: applied, duplicate (seen before) or late (older than the state)."""

    status: str
    zone: ParkingZone
    event_id: int | None  # our row's id; None for a duplicate


def new_device(session: Session, *, community_id: int, seal_key: str, name: str = "",
               zone_ids: list[int] | None = None) -> ParkingDevice:
    """Register a camera system with a fresh key id and secret; the secret is stored sealed (seal_key: the
    service's SECRET_KEY) and handed back once, as device.issued_secret, to show the installer."""
    issued = secrets.token_hex(32)
    device = ParkingDevice(community_id=community_id, name=name, key_id=f"cam_{secrets.token_hex(6)}",
                           secret=seal(issued, seal_key), zone_ids=list(zone_ids or []))
    session.add(device)
    session.flush()
    device.issued_secret = issued  # not a column: gone once this object is
    return device


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a device sends for a body at a timestamp."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def authenticate(session: Session, conn: redis.Redis | None, *, key_id: str | None, timestamp: str | None,
                 signature: str | None, body: bytes, seal_key: str, now: datetime | None = None,
                 window: int = TIMESTAMP_WINDOW) -> ParkingDevice:
    """The device that signed this request; refuses unknown keys, bad signatures, old timestamps and replays."""
    if not key_id or not timestamp or not signature:
        raise Unauthorized("缺少设备签名", code="missing_signature")
    device = session.scalar(select(ParkingDevice).where(ParkingDevice.key_id == key_id[:40]))
    if device is None or not device.active:
        raise Unauthorized("未知的设备", code="unknown_device")
    secret = unseal(device.secret, seal_key)
    expected = sign(secret, timestamp, body) if secret is not None else ""
    if not secret or not hmac.compare_digest(expected, signature.strip().lower()):
        raise Unauthorized("签名不正确", code="bad_signature")
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise Unauthorized("时间戳格式不正确", code="bad_timestamp") from exc
    now = now or utcnow()
    if abs(now.replace(tzinfo=UTC).timestamp() - sent) > window:
        raise Unauthorized("时间戳超出有效期，请校准设备时间", code="stale_timestamp")
    if conn is not None:
        try:
            fresh = conn.set(REPLAY_KEY.format(device=device.id, signature=expected), 1, nx=True, ex=window * 2)
        except redis.RedisError as exc:  # event ids still keep a replay from changing anything
            log.warning("parking ingest: replay check unavailable: %s", exc)
            fresh = True
        if not fresh:
            raise Conflict("重复的请求（重放）已拒绝", code="replay")
    return device


def _int(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed(f"{field} 应为非负整数", code="invalid_field", details={"field": field})
    return value


def _zone(session: Session, device: ParkingDevice, code) -> ParkingZone:
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed("缺少停车区域编号 zone", code="missing_field", details={"field": "zone"})
    zone = session.scalar(select(ParkingZone).where(ParkingZone.community_id == device.community_id,
                                                    ParkingZone.code == code.strip()[:40])
                          .with_for_update())
    if zone is None or not zone.active:
        raise UnknownZone(f"没有这个停车区域：{code[:40]}", details={"zone": code[:40]})
    if device.zone_ids and zone.id not in device.zone_ids:
        raise Forbidden("该设备无权上报这个停车区域", code="zone_not_allowed", details={"zone": zone.code})
    return zone


def apply_report(session: Session, device: ParkingDevice, report: dict, *, now: datetime | None = None) -> Outcome:
    """Apply one report {event_id, zone, at, fixed_occupied/temporary_occupied | fixed_free/temporary_free |
    spaces: [{code, kind, occupied}]}; idempotent on event_id."""
    now = now or utcnow()
    event_id = report.get("event_id")
    if not isinstance(event_id, str | int) or isinstance(event_id, bool) or not str(event_id).strip():
        raise ValidationFailed("缺少事件编号 event_id", code="missing_field", details={"field": "event_id"})
    event_id = str(event_id).strip()[:64]
    zone = _zone(session, device, report.get("zone"))  # locked: reports for one zone apply one at a time
    at = event_time(report.get("at"), now)
    spaces = "spaces" in report
    counts = None if spaces else _counts(zone, report)
    newest = counts is not None and (zone.last_event_at is None or at >= zone.last_event_at)
    # the event row first, once per (device, event id): a duplicate inserts nothing and changes nothing
    inserted = session.execute(
        conflict_insert(session, OccupancyEvent)
        .values(device_id=device.id, event_id=event_id, zone_id=zone.id, occurred_at=at, received_at=now,
                applied=newest, payload=report)
        .on_conflict_do_nothing(index_elements=["device_id", "event_id"]).returning(OccupancyEvent.id)
    ).scalar()
    if inserted is None:
        return Outcome("duplicate", zone, None)
    applied = _apply_spaces(session, zone, report["spaces"], at) if spaces else _apply_counts(session, zone, counts, at)
    if applied:
        zone.updated_at = now
        if spaces:
            session.execute(update(OccupancyEvent).where(OccupancyEvent.id == inserted).values(applied=True))
    return Outcome("applied" if applied else "late", zone, inserted)


def _counts(zone: ParkingZone, report: dict) -> tuple[int, int]:
    if "fixed_occupied" in report or "temporary_occupied" in report:
        fixed = _int(report.get("fixed_occupied", zone.fixed_occupied), "fixed_occupied")
        temporary = _int(report.get("temporary_occupied", zone.temporary_occupied), "temporary_occupied")
    elif "fixed_free" in report or "temporary_free" in report:
        fixed_free = _int(report.get("fixed_free", zone.fixed_free), "fixed_free")
        temporary_free = _int(report.get("temporary_free", zone.temporary_free), "temporary_free")
        if fixed_free > zone.fixed_capacity or temporary_free > zone.temporary_capacity:
            raise OverCapacity(details={"fixed_capacity": zone.fixed_capacity,
                                        "temporary_capacity": zone.temporary_capacity})
        fixed, temporary = zone.fixed_capacity - fixed_free, zone.temporary_capacity - temporary_free
    else:
        raise ValidationFailed("缺少车位数（fixed_occupied / temporary_occupied 或 spaces）", code="missing_field",
                               details={"field": "fixed_occupied"})
    if fixed > zone.fixed_capacity or temporary > zone.temporary_capacity:
        raise OverCapacity(details={"fixed_capacity": zone.fixed_capacity,
                                    "temporary_capacity": zone.temporary_capacity})
    return fixed, temporary


def _apply_counts(session: Session, zone: ParkingZone, counts: tuple[int, int], at: datetime) -> bool:
    fixed, temporary = counts
    record_sample(session, zone, fixed_occupied=fixed, temporary_occupied=temporary, at=at)
    if zone.last_event_at is not None and at < zone.last_event_at:
        return False
    zone.fixed_occupied, zone.temporary_occupied, zone.last_event_at = fixed, temporary, at
    return True


def _apply_spaces(session: Session, zone: ParkingZone, spaces, at: datetime) -> bool:
    if not isinstance(spaces, list) or not spaces or len(spaces) > 2000:
        raise ValidationFailed("spaces 应为车位状态列表", code="invalid_field", details={"field": "spaces"})
    known = {s.code: s for s in session.scalars(select(ParkingSpace).where(ParkingSpace.zone_id == zone.id))}
    changed = False
    for item in spaces:
        code = str(item.get("code") or "").strip()[:40] if isinstance(item, dict) else ""
        occupied = item.get("occupied") if isinstance(item, dict) else None
        if not code or not isinstance(occupied, bool):
            raise ValidationFailed("每个车位需要 code 和 occupied(true/false)", code="invalid_field",
                                   details={"field": "spaces"})
        space = known.get(code)
        if space is None:
            kind = item.get("kind")
            if kind not in SPACE_KINDS:
                raise ValidationFailed(f"新车位 {code} 需要 kind（fixed 或 temporary）", code="invalid_field",
                                       details={"field": "spaces"})
            capacity = zone.fixed_capacity if kind == "fixed" else zone.temporary_capacity
            if sum(1 for s in known.values() if s.kind == kind) >= capacity:
                raise OverCapacity("上报的车位数超过了该区域的车位数", details={"space": code})
            space = ParkingSpace(zone_id=zone.id, code=code, kind=kind)
            session.add(space)
            known[code] = space
        if space.last_event_at is None or at >= space.last_event_at:
            space.occupied, space.last_event_at, changed = occupied, at, True
    if not changed:
        return False
    zone.fixed_occupied = sum(1 for s in known.values() if s.kind == "fixed" and s.occupied)
    zone.temporary_occupied = sum(1 for s in known.values() if s.kind == "temporary" and s.occupied)
    zone.last_event_at = max(zone.last_event_at or at, at)
    session.flush()
    record_sample(session, zone, fixed_occupied=zone.fixed_occupied, temporary_occupied=zone.temporary_occupied,
                  at=zone.last_event_at)
    return True


def prune_events(session: Session, *, keep: timedelta = timedelta(days=2), now: datetime | None = None) -> int:
    """Delete reports older than `keep` (by event time, per zone on its index); returns how many.

    Safe: a pruned event sent again is older than every zone's state, so it is recorded as late and changes
    nothing but its own history bucket, which already holds that count or a newer one.
    """
    before = (now or utcnow()) - keep
    removed = 0
    for zone_id in session.scalars(select(ParkingZone.id)):
        result = session.execute(delete(OccupancyEvent).where(OccupancyEvent.zone_id == zone_id,
                                                              OccupancyEvent.occurred_at < before))
        removed += result.rowcount or 0
    return removed
