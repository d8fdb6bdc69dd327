"""Signs of life as they arrive: a door lock opened, a water or power meter reading that shows use, a lift-card
swipe (from the device core's events), a chat message or a check-in from the resident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devices.models import Device, DeviceEvent
from app.welfare import watch as watching
from app.welfare.checks import sign_of_life
from app.welfare.models import WelfareWatch

# a reading shows use when the meter went up at least this much per hour since the last reading
# (a fridge alone draws ~0.05 kWh an hour; a tap or a kettle far more); a device's settings may say otherwise
USE_PER_HOUR = {"water_meter": 0.002, "power_meter": 0.15}  # m³ (2 litres), kWh
MIN_USE = {"water_meter": 0.005, "power_meter": 0.1}  # and at least this much in all


def _watches_of_household(session: Session, household_id: int | None) -> list[WelfareWatch]:
    if household_id is None:
        return []
    return list(session.scalars(select(WelfareWatch).where(WelfareWatch.household_id == household_id,
                                                           WelfareWatch.active.is_(True))))


def on_door_opened(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """Device handler (door_opened): the household's watched residents showed a sign of life."""
    if device.kind != "door_lock":
        return
    for watch in _watches_of_household(session, device.household_id):
        if "door_lock" in watch.signals:
            sign_of_life(session, watch, "door_lock", min(event.occurred_at, now), now, device_id=device.id)


def on_meter_reading(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """Device handler (meter_reading): a reading counts when the meter moved enough since the last one."""
    kind = device.kind
    if kind not in USE_PER_HOUR:
        return
    try:
        value = float(event.payload.get("value"))
    except (TypeError, ValueError):
        return
    at = min(event.occurred_at, now)
    settings = device.settings or {}
    for watch in _watches_of_household(session, device.household_id):
        signal = watching.signal_row(session, watch, kind)
        used = showed_use(kind, signal.last_value, signal.last_reading_at, value, at, settings)
        if signal.last_reading_at is None or at >= signal.last_reading_at:
            signal.last_value, signal.last_reading_at = value, at
        if used and kind in watch.signals:
            sign_of_life(session, watch, kind, at, now, device_id=device.id)


def showed_use(kind: str, before: float | None, before_at: datetime | None, value: float, at: datetime,
               settings: dict) -> bool:
    """Whether a meter going from `before` to `value` shows someone used water or power."""
    if before is None or before_at is None or at <= before_at:
        return False
    delta = value - before
    hours = max((at - before_at).total_seconds() / 3600, 1 / 60)
    per_hour = float(settings.get("use_per_hour", USE_PER_HOUR[kind]))
    return delta >= MIN_USE[kind] and delta / hours >= per_hour


def on_card_swipe(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """Device handler (card_swipe): the watched resident whose lift card it was showed a sign of life."""
    card = str(event.payload.get("card") or "").strip()[:32]
    if not card:
        return
    rows = session.scalars(select(WelfareWatch).where(WelfareWatch.community_id == device.community_id,
                                                      WelfareWatch.lift_card == card,
                                                      WelfareWatch.active.is_(True)))
    for watch in rows:
        if "card_reader" in watch.signals:
            sign_of_life(session, watch, "card_reader", min(event.occurred_at, now), now, device_id=device.id)


def resident_spoke(session: Session, watch: WelfareWatch, kind: str, now: datetime) -> None:
    """A chat message (chat) or a check-in (checkin) from the watched resident."""
    sign_of_life(session, watch, kind, now, now)
