"""Sensor rules, one implementation for every measure: a threshold with hysteresis, a duration condition
and minimum on/off times (Home Assistant's threshold and generic_thermostat), a rolling average, stuck
values and no-data faults; and the corridor sensors (temperature, smoke, water leak) built on them.

The mist curtain (air.py) uses the same `Threshold` and `step`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devices import alarms
from app.devices.models import Device, DeviceEvent
from app.devices.rule_models import SensorState

# ---- the pure part: no database ------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """On above `on_above` (held `for_s`), off below `off_below` (held `clear_for_s`); min times between changes."""

    on_above: float
    off_below: float | None = None  # None: the same as on_above (no hysteresis band)
    for_s: float = 0
    clear_for_s: float = 0
    min_on_s: float = 0
    min_off_s: float = 0

    def with_settings(self, settings: dict | None) -> Threshold:
        """This threshold with a device's knobs (same names in its settings) applied."""
        knobs = {k: float(v) for k, v in (settings or {}).items()
                 if k in ("on_above", "off_below", "for_s", "clear_for_s", "min_on_s", "min_off_s")
                 and isinstance(v, int | float) and not isinstance(v, bool)}
        return replace(self, **knobs) if knobs else self


class Track(Protocol):
    """What a rule remembers between values (SensorState and MistState both are one)."""

    active: bool
    changed_at: datetime | None
    pending_since: datetime | None


def step(rule: Threshold, track: Track, value: float, now: datetime) -> str | None:
    """Feed one value at `now`: "on" or "off" when the state changes (track updated), else None."""
    if not track.active:
        crossing, wait, minimum = value > rule.on_above, rule.for_s, rule.min_off_s
    else:
        off_below = rule.on_above if rule.off_below is None else rule.off_below
        crossing, wait, minimum = value < off_below, rule.clear_for_s, rule.min_on_s
    if not crossing:
        track.pending_since = None
        return None
    if track.pending_since is None or track.pending_since > now:
        track.pending_since = now
    if (now - track.pending_since).total_seconds() < wait:
        return None
    if track.changed_at is not None and (now - track.changed_at).total_seconds() < minimum:
        return None
    return switch(track, not track.active, now)


def switch(track: Track, active: bool, now: datetime) -> str | None:
    """Set the state regardless of the rule (an interlock, a fault): "on"/"off" if it changed, else None."""
    track.pending_since = None
    if track.active == active:
        return None
    track.active, track.changed_at = active, now
    return "on" if active else "off"


def add_sample(samples: list, value: float, now: datetime, window_s: float) -> list:
    """The rolling window's samples ([iso, value]) with this one added and those older than the window gone."""
    since = now - timedelta(seconds=window_s)
    kept = [s for s in samples or [] if since < datetime.fromisoformat(s[0]) <= now]
    return [*kept, [now.isoformat(), float(value)]]


def mean(samples: Iterable, now: datetime, window_s: float) -> float | None:
    """The mean of the samples inside the window ending now (None when there are none)."""
    since = now - timedelta(seconds=window_s)
    values = [float(v) for at, v in samples if since < datetime.fromisoformat(at) <= now]
    return sum(values) / len(values) if values else None


def count_same(track: SensorState, value: float) -> int:
    """Count how many readings in a row had this value (a sensor stuck on one number)."""
    track.same_count = (track.same_count or 0) + 1 if track.last_value == value else 1
    track.last_value = value
    return track.same_count


def silent(last_at: datetime | None, now: datetime, interval_s: float, intervals: int = 3) -> bool:
    """Whether a sensor reporting every interval_s has been silent for `intervals` intervals."""
    return last_at is not None and (now - last_at).total_seconds() >= interval_s * intervals


# ---- the corridor sensors and the faults every sensor shares -------------------------------------

# event type -> (measure, the payload keys it may come under, default rule, alarm severity, stuck check)
CORRIDOR: dict[str, tuple[str, tuple[str, ...], Threshold, str, bool]] = {
    "temperature": ("temperature", ("value", "temperature"), Threshold(55, 50, for_s=60, clear_for_s=60),
                    "major", True),
    "smoke": ("smoke", ("value", "smoke"), Threshold(0.5), "critical", False),
    "water_leak": ("leak", ("value", "leak"), Threshold(0.5, for_s=30, clear_for_s=30), "major", False),
}
SENSOR_KINDS = {"air_sensor": 60, "temp_sensor": 60, "smoke_sensor": 300, "leak_sensor": 300}  # kind -> interval
STUCK_AFTER = 10  # the same reading this many times in a row is a stuck sensor
MEASURE_LABELS = {"temperature": "温度", "smoke": "烟感", "leak": "漏水", "pm25": "PM2.5"}


def reading(payload: dict, keys: Iterable[str]) -> float | None:
    """The first finite number (or boolean) under one of keys, as a float; None when there is none."""
    for key in keys:
        value = payload.get(key)
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        try:
            number = float(value) if isinstance(value, int | float | str) else None
        except (ValueError, OverflowError):
            continue
        if number is not None and math.isfinite(number) and abs(number) < 1e9:
            return number
    return None


def state_of(session: Session, device: Device, measure: str) -> SensorState:
    """The rule state of one device's measure (created the first time)."""
    state = session.scalar(select(SensorState).where(SensorState.device_id == device.id,
                                                     SensorState.measure == measure))
    if state is None:
        state = SensorState(device_id=device.id, measure=measure, active=False, same_count=0, samples=[],
                            extra={}, silent=False, stuck=False)
        session.add(state)
    return state


def _raise(session: Session, device: Device, type_: str, severity: str, now: datetime, details: dict) -> None:
    alarms.raise_alarm(session, community_id=device.community_id, type=type_, severity=severity, now=now,
                       device_id=device.id, building_id=device.building_id,
                       location=device.location or device.name, details=details)


def observe(session: Session, device: Device, state: SensorState, value: float, now: datetime, *,
            check_stuck: bool) -> None:
    """A reading arrived: clear a no-data fault, and raise or clear a stuck-value fault."""
    state.last_reading_at = now
    if state.silent:
        state.silent = False
        alarms.clear_alarm(session, device_id=device.id, type="no_data", now=now, text="传感器恢复上报")
    if not check_stuck:
        return
    limit = int((device.settings or {}).get("stuck_after", STUCK_AFTER))
    same = count_same(state, value)
    if same >= limit and not state.stuck:
        state.stuck = True
        _raise(session, device, "stuck_value", "minor", now,
               {"measure": state.measure, "value": value, "readings": same})
    elif same == 1 and state.stuck:
        state.stuck = False
        alarms.clear_alarm(session, device_id=device.id, type="stuck_value", now=now, text="读数恢复变化")


def apply_threshold(session: Session, device: Device, state: SensorState, rule: Threshold, value: float,
                    now: datetime, *, alarm_type: str, severity: str, details: dict[str, Any]) -> str | None:
    """Step the rule and raise or clear the alarm when it changes; the change ("on"/"off") or None."""
    change = step(rule, state, value, now)
    if change == "on":
        _raise(session, device, alarm_type, severity, now,
               {**details, "value": value, "threshold": rule.on_above, "for_s": rule.for_s})
    elif change == "off":
        alarms.clear_alarm(session, device_id=device.id, type=alarm_type, now=now,
                           text=f"{MEASURE_LABELS.get(state.measure, state.measure)}恢复正常（{value:g}）")
    return change


def on_corridor_event(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """A temperature, smoke or water-leak reading: threshold with its duration, no-data and stuck checks."""
    measure, keys, default, severity, check_stuck = CORRIDOR[event.type]
    value = reading(event.payload or {}, keys)
    if value is None:
        return
    at = min(event.occurred_at or now, now)
    state = state_of(session, device, measure)
    observe(session, device, state, value, at, check_stuck=check_stuck)
    rule = default.with_settings((device.settings or {}).get(measure))
    apply_threshold(session, device, state, rule, value, at, alarm_type=event.type, severity=severity,
                    details={"measure": measure})


def sweep_silent(session: Session, now: datetime) -> int:
    """Raise a no_data fault for every sensor silent for three of its intervals; how many were raised."""
    rows = session.execute(
        select(Device, SensorState).join(SensorState, SensorState.device_id == Device.id)
        .where(Device.active.is_(True), Device.kind.in_(tuple(SENSOR_KINDS)), SensorState.silent.is_(False))
    ).all()
    raised = 0
    for device, state in rows:
        if state.silent:  # another measure of this device already raised it in this sweep
            continue
        interval = float((device.settings or {}).get("interval_s", SENSOR_KINDS[device.kind]))
        if silent(state.last_reading_at, now, interval):
            for other in session.scalars(select(SensorState).where(SensorState.device_id == device.id)):
                other.silent = True  # one fault per device, whichever measure noticed
            _raise(session, device, "no_data", "minor", now,
                   {"measure": state.measure, "last_reading_at": state.last_reading_at.isoformat(),
                    "interval_s": interval})
            raised += 1
    session.flush()
    return raised
