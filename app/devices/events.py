"""Events from devices: the one entry both doors call (ingest), idempotent by event id, the handlers the
rules register per event type, and state reports (online, last seen, battery)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.db import conflict_insert
from app.core.errors import ValidationFailed
from app.core.event_time import event_time
from app.devices.models import Device, DeviceEvent

log = logging.getLogger(__name__)
SEEN_RESOLUTION = timedelta(seconds=10)  # last_seen_at is kept to this (offline takes minutes of silence)
Handler = Callable[[Session, Device, DeviceEvent, datetime], None]
_handlers: dict[str, list[Handler]] = {}
_online_listeners: list[Callable[[Session, Device, datetime], None]] = []


def add_handler(event_type: str, fn: Handler) -> None:
    """Call fn(session, device, event, now) for each newly stored event of this type (once per function)."""
    found = _handlers.setdefault(event_type, [])
    if all(_key(f) != _key(fn) for f in found):  # init_app may run more than once
        found.append(fn)


def _key(fn: Callable) -> tuple[str, str]:
    return getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn))


def add_online_listener(fn: Callable[[Session, Device, datetime], None]) -> None:
    """Call fn(session, device, now) when a device that was offline is heard from again."""
    if fn not in _online_listeners:
        _online_listeners.append(fn)


def parse_time(value, now: datetime) -> datetime:
    """An event time as naive UTC (app.core.event_time); missing = now."""
    return now if value is None else event_time(value, now)


def _field(event: dict, name: str, limit: int) -> str:
    value = event.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ValidationFailed(f"缺少 {name}", code="missing_field", details={"field": name})
    return str(value).strip()[:limit]


def seen(session: Session, device: Device, now: datetime, *, battery=None, online: bool = True) -> None:
    """Record that the device spoke: last seen, online (telling the listeners if it was offline), battery."""
    was_online = device.online
    if device.last_seen_at is None or now - device.last_seen_at >= SEEN_RESOLUTION:  # not a write per event
        device.last_seen_at = now
    if device.online != online:
        device.online = online
    if isinstance(battery, int | float) and not isinstance(battery, bool) and 0 <= battery <= 100 \
            and device.battery != int(battery):
        device.battery = int(battery)
    if online and not was_online:
        for fn in list(_online_listeners):
            fn(session, device, now)


def apply_state(session: Session, device: Device, state: dict, now: datetime) -> None:
    """A state report {online?, battery?, ...}: updates online, last seen and battery."""
    if not isinstance(state, dict):
        raise ValidationFailed("状态应为 JSON 对象", code="invalid_body")
    seen(session, device, now, battery=state.get("battery"), online=state.get("online", True) is not False)


def prepare_event(device: Device, event: dict, now: datetime) -> dict:
    """An event checked and shaped as a device_event row."""
    if not isinstance(event, dict):
        raise ValidationFailed("事件应为 JSON 对象", code="invalid_body")
    event_id, kind = _field(event, "id", 64), _field(event, "type", 40)
    at = parse_time(event.get("at"), now)
    payload = {k: v for k, v in event.items() if k not in ("id", "type", "at")}
    return {"device_id": device.id, "event_id": event_id, "type": kind, "occurred_at": at, "received_at": now,
            "payload": payload}


def _handle(session: Session, device: Device, row: DeviceEvent, now: datetime) -> None:
    for fn in list(_handlers.get(row.type, ())):
        try:
            with session.begin_nested():  # a failing rule loses neither the event nor the other rules
                fn(session, device, row, now)
        except Exception:
            log.exception("device event handler %s failed on %s/%s", getattr(fn, "__qualname__", fn), device.code,
                          row.event_id)


def ingest(session: Session, device: Device, event: dict, now: datetime) -> DeviceEvent | None:
    """Store one event {"id", "type", "at", ...payload} once and run its handlers; None for a repeat."""
    return ingest_many(session, [(device, event)], now)[0]


def ingest_many(session: Session, batch: list[tuple[Device, dict]], now: datetime) -> list[DeviceEvent | None]:
    """Store several checked events in one statement (the MQTT door's batches), then run the handlers of the
    new ones in order; None for each repeat. Raises on the first bad event (check them with ingest first if
    one bad event must not hold back the others)."""
    rows = [prepare_event(device, event, now) for device, event in batch]
    if not rows:
        return []
    inserted = session.execute(
        conflict_insert(session, DeviceEvent.__table__).values(rows)
        .on_conflict_do_nothing(index_elements=["device_id", "event_id"])
        .returning(DeviceEvent.__table__.c.id, DeviceEvent.__table__.c.device_id, DeviceEvent.__table__.c.event_id)
    ).all()
    ids = {(r.device_id, r.event_id): r.id for r in inserted}
    out: list[DeviceEvent | None] = []
    for (device, _event), row in zip(batch, rows, strict=True):
        seen(session, device, now, battery=row["payload"].get("battery"))
        new_id = ids.pop((row["device_id"], row["event_id"]), None)  # pop: the same id twice in a batch is one
        if new_id is None:
            out.append(None)
            continue
        stored = DeviceEvent(id=new_id, **row) if not _handlers.get(row["type"]) else session.get(DeviceEvent, new_id)
        if _handlers.get(row["type"]):
            _handle(session, device, stored, now)
        out.append(stored)
    return out


def recent_events(session: Session, device_id: int, limit: int = 20) -> list[DeviceEvent]:
    """A device's newest events."""
    return list(session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == device_id)
                                .order_by(DeviceEvent.occurred_at.desc(), DeviceEvent.id.desc()).limit(limit)))
