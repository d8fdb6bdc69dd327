"""Air quality → the mist curtain (雾森/喷雾降尘): PM2.5 and PM10 readings kept as a rolling average (15 min);
the curtain goes on above the threshold and off below a lower one (GB 3095-2012 level II daily limits:
PM2.5 on above 75 µg/m³, off below 60; PM10 on above 150, off below 120), with minimum on and off times,
as Home Assistant's generic_thermostat does (sensors.step), and interlocks that hold it off whatever the
air: tank low, wind too strong, rain, frost below 2 °C, quiet hours 22:00–06:00. Every switch is a
command the curtain acknowledges; a failed one is sent again. The air sensor itself raises an
air_quality alarm on its own average, and no-data and stuck-value faults like every sensor.

A curtain follows the air sensors named in its settings ("sensors": [codes]), else every air sensor of
its community. Its settings may override on_above, off_below, min_on_s, min_off_s, window_s, pm10_on,
pm10_off, tank_min, wind_max, frost_below and quiet ([start, end] or null for none).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.clock import to_local
from app.devices import commands
from app.devices.models import Device, DeviceCommand, DeviceEvent
from app.devices.rule_models import MistState, SensorState
from app.devices.sensors import Threshold, add_sample, apply_threshold, mean, observe, reading, state_of, step, switch

CURTAIN = Threshold(on_above=75, off_below=60, min_on_s=600, min_off_s=300)
SENSOR_ALARM = Threshold(on_above=75, off_below=60)
PM10_ON, PM10_OFF = 150.0, 120.0
WINDOW_S = 900
INPUTS = ("wind", "rain", "temperature", "tank_level")  # interlock inputs an air_reading may carry
INPUT_MAX_AGE = timedelta(minutes=30)  # an interlock input older than this is ignored
TANK_MIN, WIND_MAX, FROST_BELOW = 15.0, 8.0, 2.0  # %, m/s, °C
QUIET = ("22:00", "06:00")
RESEND_AFTER = timedelta(minutes=5)  # a failed switch command is sent again after this
INTERLOCK_LABELS = {"tank_low": "水箱水位低", "wind": "风力过大", "rain": "正在下雨", "frost": "低温防冻",
                    "quiet_hours": "夜间静音时段", "no_data": "无空气质量数据"}


def _number(settings: dict, key: str, default: float) -> float:
    value = settings.get(key, default)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def curtain_rule(settings: dict) -> Threshold:
    """The curtain's PM2.5 rule with its knobs applied."""
    return CURTAIN.with_settings(settings)


def _clock(value: str) -> time:
    hour, _, minute = str(value).partition(":")
    return time(int(hour) % 24, int(minute or 0) % 60)


def in_quiet_hours(now: datetime, quiet) -> bool:
    """Whether a naive-UTC moment is inside the local quiet hours [start, end) (spanning midnight or not)."""
    if not quiet:
        return False
    start, end = _clock(quiet[0]), _clock(quiet[1])
    local = to_local(now).time()
    return start <= local < end if start <= end else (local >= start or local < end)


def interlock(inputs: dict, now: datetime, settings: dict) -> str | None:
    """The first interlock that holds the curtain off (tank_low, wind, rain, frost, quiet_hours), or None."""
    fresh = {k: v for k, (v, at) in inputs.items() if now - at <= INPUT_MAX_AGE}
    if "tank_level" in fresh and fresh["tank_level"] < _number(settings, "tank_min", TANK_MIN):
        return "tank_low"
    if "wind" in fresh and fresh["wind"] > _number(settings, "wind_max", WIND_MAX):
        return "wind"
    if fresh.get("rain", 0) > 0:
        return "rain"
    if "temperature" in fresh and fresh["temperature"] < _number(settings, "frost_below", FROST_BELOW):
        return "frost"
    if in_quiet_hours(now, settings.get("quiet", QUIET)):
        return "quiet_hours"
    return None


def followers(session: Session, sensor: Device) -> list[Device]:
    """The mist curtains that follow this air sensor."""
    curtains = session.scalars(select(Device).where(Device.community_id == sensor.community_id,
                                                    Device.kind == "mist_curtain", Device.active.is_(True))).all()
    return [c for c in curtains if not (c.settings or {}).get("sensors") or sensor.code in c.settings["sensors"]]


def followed(session: Session, curtain: Device) -> list[Device]:
    """The air sensors a curtain follows."""
    query = select(Device).where(Device.community_id == curtain.community_id, Device.kind == "air_sensor",
                                 Device.active.is_(True))
    codes = (curtain.settings or {}).get("sensors")
    if codes:
        query = query.where(Device.code.in_(list(codes)))
    return list(session.scalars(query))


def _store_inputs(state: SensorState, payload: dict, at: datetime) -> None:
    values = {k: reading(payload, (k,)) for k in INPUTS}
    stamped = {k: [v, at.isoformat()] for k, v in values.items() if v is not None}
    if stamped:
        state.extra = {**(state.extra or {}), **stamped}


def on_air_reading(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """An air reading: rolling averages, the sensor's own alarm and faults, then every curtain that follows it."""
    payload = event.payload or {}
    at = min(event.occurred_at or now, now)
    settings = device.settings or {}
    window = _number(settings, "window_s", WINDOW_S)
    pm25, pm10 = reading(payload, ("pm25", "pm2_5")), reading(payload, ("pm10",))
    state = state_of(session, device, "pm25")
    _store_inputs(state, payload, at)
    if pm25 is not None:
        observe(session, device, state, pm25, at, check_stuck=True)
        state.samples = add_sample(state.samples, pm25, at, window)
        average = mean(state.samples, at, window)
        apply_threshold(session, device, state, SENSOR_ALARM.with_settings(settings.get("pm25")), average, at,
                        alarm_type="air_quality", severity="warning",
                        details={"measure": "pm25", "average": round(average, 1)})
    if pm10 is not None:
        state10 = state_of(session, device, "pm10")
        state10.samples = add_sample(state10.samples, pm10, at, window)
    session.flush()
    curtains = [device] if device.kind == "mist_curtain" else followers(session, device)
    for curtain in curtains:
        evaluate(session, curtain, at)


def mist_state(session: Session, curtain: Device) -> MistState:
    """The curtain's state (created off the first time)."""
    state = session.get(MistState, curtain.id)
    if state is None:
        state = MistState(device_id=curtain.id, active=False, reason="")
        session.add(state)
    return state


def _inputs(states: list[SensorState]) -> dict[str, tuple[float, datetime]]:
    """The newest interlock input of each kind among the readings' states: name -> (value, when)."""
    out: dict[str, tuple[float, datetime]] = {}
    for state in states:
        for key, (value, at) in (state.extra or {}).items():
            at = datetime.fromisoformat(at)
            if key not in out or at > out[key][1]:
                out[key] = (float(value), at)
    return out


def averages(states: list[SensorState], now: datetime, window: float) -> tuple[float | None, float | None]:
    """The rolling PM2.5 and PM10 averages over the states' samples."""
    pm25 = [s for state in states if state.measure == "pm25" for s in state.samples or []]
    pm10 = [s for state in states if state.measure == "pm10" for s in state.samples or []]
    return mean(pm25, now, window), mean(pm10, now, window)


def evaluate(session: Session, curtain: Device, now: datetime) -> str | None:
    """Decide the curtain's state now; "on"/"off" when it switched (a command went), else None."""
    settings = curtain.settings or {}
    state = mist_state(session, curtain)
    ids = [d.id for d in followed(session, curtain)] + [curtain.id]
    states = list(session.scalars(select(SensorState).where(SensorState.device_id.in_(ids),
                                                            SensorState.measure.in_(("pm25", "pm10")))))
    pm25, pm10 = averages([s for s in states if s.device_id != curtain.id], now,
                          _number(settings, "window_s", WINDOW_S))
    state.average = round(pm25, 1) if pm25 is not None else None
    blocked = interlock(_inputs(states), now, settings)
    if blocked is None and pm25 is None and pm10 is None:
        blocked = "no_data"
    state.blocked_by = blocked
    if blocked is not None:
        change = switch(state, False, now)
        reason = f"联锁：{INTERLOCK_LABELS[blocked]}"
    else:
        rule = curtain_rule(settings)
        on10, off10 = _number(settings, "pm10_on", PM10_ON), _number(settings, "pm10_off", PM10_OFF)
        off_below = rule.off_below if rule.off_below is not None else rule.on_above
        # one rule on one number: the worse of the two measures as a share of its own threshold
        level = max((pm25 or 0) / rule.on_above, (pm10 or 0) / on10)
        ratio = Threshold(1.0, min(off_below / rule.on_above, off10 / on10), rule.for_s, rule.clear_for_s,
                          rule.min_on_s, rule.min_off_s)
        change = step(ratio, state, level, now)
        reason = (f"PM2.5 {_show(pm25)} / PM10 {_show(pm10)}（15 分钟平均）"
                  + ("高于开启阈值" if change == "on" else "低于关闭阈值"))
    if change is not None:
        _command(session, curtain, state, "mist_on" if change == "on" else "mist_off", reason, now)
    else:
        _resend_failed(session, curtain, state, now)
    session.flush()
    return change


def _show(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _command(session: Session, curtain: Device, state: MistState, name: str, reason: str, now: datetime) -> None:
    command = commands.send_command(session, curtain, name, {}, now=now, timeout_s=10, retries=2,
                                    reason=reason[:200])
    state.command_id, state.reason = command.id, reason[:200]


def _resend_failed(session: Session, curtain: Device, state: MistState, now: datetime) -> None:
    """The last switch was never acknowledged: send the state it should be in again."""
    if state.command_id is None:
        return
    last = session.get(DeviceCommand, state.command_id)
    if last is None or last.status not in ("timed_out", "failed") or now - last.created_at < RESEND_AFTER:
        return
    _command(session, curtain, state, "mist_on" if state.active else "mist_off", f"重发：{state.reason}", now)


def sweep_curtains(session: Session, now: datetime) -> int:
    """Re-decide every curtain (quiet hours begin, averages age out, failed commands); how many switched."""
    curtains = session.scalars(select(Device).where(Device.kind == "mist_curtain", Device.active.is_(True))).all()
    return sum(1 for c in curtains if evaluate(session, c, now) is not None)
