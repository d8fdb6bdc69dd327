"""Air quality → the mist curtain: rolling average, on above 75 / off below 60, minimum on and off times,
interlocks (tank, wind, rain, frost, quiet hours), every switch a command that is acknowledged or sent again;
the sensor's own air_quality alarm, no-data faults after three silent intervals, stuck values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from device_rules_world import device, send

from app.devices import air, sensors
from app.devices.models import Alarm, DeviceCommand
from app.devices.rule_models import MistState


@pytest.fixture
def square(app, db_session, make_community):
    community = make_community()
    sensor = device(app, db_session, community, "air-square", "air_sensor", settings={"interval_s": 60})
    curtain = device(app, db_session, community, "mist-square", "mist_curtain", settings={"sensors": ["air-square"]})
    return sensor, curtain


def _switches(db_session, curtain) -> list[str]:
    return [c.name for c in db_session.query(DeviceCommand).filter_by(device_id=curtain.id).order_by(DeviceCommand.id)]


def _feed(db_session, sensor, start, values, every=60, **extra):
    """One reading a minute from start; returns the moment of the last."""
    at = start
    for i, value in enumerate(values):
        at = start + timedelta(seconds=every * i)
        send(db_session, sensor, "air_reading", at, pm25=value, pm10=value * 1.2, wind=2.0, rain=0,
             temperature=15, tank_level=80, **extra)
    return at


def _trace(db_session, sensor, curtain, start, values):
    """Feed readings a minute apart; [(at, 15-minute average, curtain on)] after each."""
    out = []
    for i, value in enumerate(values):
        at = _feed(db_session, sensor, start + timedelta(minutes=i), [value])
        state = db_session.get(MistState, curtain.id)
        out.append((at, state.average, state.active))
    return out


def test_rolling_average_hysteresis_and_minimum_times(db_session, square, clock):
    sensor, curtain = square
    t0 = clock.at(11, 0)
    trace = _trace(db_session, sensor, curtain, t0, [50] * 5 + [100] * 5)
    assert trace[-1][1] == pytest.approx(75) and _switches(db_session, curtain) == []  # 75 is not above 75
    trace = _trace(db_session, sensor, curtain, t0 + timedelta(minutes=10), [100])
    state = db_session.get(MistState, curtain.id)
    assert _switches(db_session, curtain) == ["mist_on"] and state.active and state.average > 75
    on_at = state.changed_at
    # clean air: the average sinks below 60 within minutes, but the curtain stays on for its 10 minutes
    trace = _trace(db_session, sensor, curtain, on_at + timedelta(minutes=1), [10] * 12)
    below = next(at for at, average, _ in trace if average < 60)
    assert below - on_at < timedelta(minutes=10)
    off = next(at for at, _, active in trace if not active)
    assert off - on_at == timedelta(minutes=10)
    assert _switches(db_session, curtain) == ["mist_on", "mist_off"]
    # dirty again at once: off for at least 5 minutes first
    trace = _trace(db_session, sensor, curtain, trace[-1][0] + timedelta(minutes=1), [1000] * 6)
    assert trace[0][1] > 75 and not trace[0][2]
    on_again = next(at for at, _, active in trace if active)
    assert on_again - off == timedelta(minutes=5)
    assert _switches(db_session, curtain) == ["mist_on", "mist_off", "mist_on"]


def test_inside_the_band_nothing_switches(db_session, square, clock):
    sensor, curtain = square
    at = _feed(db_session, sensor, clock.at(12, 0), [90] * 3)
    assert _switches(db_session, curtain) == ["mist_on"]
    _feed(db_session, sensor, at + timedelta(minutes=20), [65] * 30)  # between 60 and 75: stays on
    assert _switches(db_session, curtain) == ["mist_on"]


@pytest.mark.parametrize(("extra", "blocked"), [
    ({"tank_level": 5}, "tank_low"), ({"wind": 12.5}, "wind"), ({"rain": 1.2}, "rain"), ({"temperature": 1.0}, "frost"),
])
def test_interlocks_hold_the_curtain_off(db_session, square, clock, extra, blocked):
    sensor, curtain = square
    at = _feed(db_session, sensor, clock.at(12, 0), [120] * 2)
    assert _switches(db_session, curtain) == ["mist_on"]
    send(db_session, sensor, "air_reading", at + timedelta(minutes=1), pm25=120, **extra)
    state = db_session.get(MistState, curtain.id)
    assert _switches(db_session, curtain) == ["mist_on", "mist_off"]  # at once, before its minimum on time
    assert state.blocked_by == blocked and not state.active
    assert air.INTERLOCK_LABELS[blocked] in db_session.query(DeviceCommand).order_by(DeviceCommand.id.desc()) \
        .first().reason


def test_the_curtain_reports_its_own_tank_level(db_session, square, clock):
    sensor, curtain = square
    at = _feed(db_session, sensor, clock.at(12, 0), [120])
    send(db_session, curtain, "air_reading", at + timedelta(seconds=30), tank_level=3)
    assert _switches(db_session, curtain) == ["mist_on", "mist_off"]
    assert db_session.get(MistState, curtain.id).blocked_by == "tank_low"


def test_quiet_hours_keep_it_off_at_night(db_session, square, clock):
    sensor, curtain = square
    _feed(db_session, sensor, clock.at(22, 30), [150] * 5)
    assert _switches(db_session, curtain) == [] and db_session.get(MistState, curtain.id).blocked_by == "quiet_hours"
    _feed(db_session, sensor, clock.at(5, 58, days=1), [150] * 5)
    assert _switches(db_session, curtain) == ["mist_on"]  # from 06:00


def test_every_switch_is_acknowledged_or_sent_again(db_session, square, clock):
    sensor, curtain = square
    at = _feed(db_session, sensor, clock.at(12, 0), [120])
    first = db_session.query(DeviceCommand).filter_by(device_id=curtain.id).one()
    first.status = "timed_out"  # the curtain never answered (the command sweep gave up)
    _feed(db_session, sensor, at + timedelta(minutes=1), [120])
    assert _switches(db_session, curtain) == ["mist_on"]  # not yet: waits a few minutes first
    _feed(db_session, sensor, at + timedelta(minutes=6), [120])
    again = db_session.query(DeviceCommand).filter_by(device_id=curtain.id).order_by(DeviceCommand.id.desc()).first()
    assert _switches(db_session, curtain) == ["mist_on", "mist_on"] and again.reason.startswith("重发")
    send(db_session, curtain, "command_ack", at + timedelta(minutes=6, seconds=1), command_id=again.id)
    assert again.status == "acked" and again.acked_at is not None


def test_sensor_alarm_no_data_and_stuck_values(db_session, square, clock):
    sensor, curtain = square
    t0 = clock.at(12, 0)
    at = _feed(db_session, sensor, t0, [90, 91])
    assert db_session.query(Alarm).filter_by(type="air_quality", device_id=sensor.id).one().state == "active_unack"
    assert sensors.sweep_silent(db_session, at + timedelta(seconds=179)) == 0
    assert sensors.sweep_silent(db_session, at + timedelta(seconds=180)) == 1
    assert sensors.sweep_silent(db_session, at + timedelta(seconds=600)) == 0  # raised once
    fault = db_session.query(Alarm).filter_by(type="no_data").one()
    assert fault.device_id == sensor.id and fault.severity == "minor"
    assert air.sweep_curtains(db_session, at + timedelta(minutes=30)) == 1  # no data left in the window: off
    assert db_session.get(MistState, curtain.id).blocked_by == "no_data"
    at = _feed(db_session, sensor, at + timedelta(minutes=31), [33.3] * 10)
    assert fault.state == "cleared_unack"
    stuck = db_session.query(Alarm).filter_by(type="stuck_value").one()
    assert stuck.details["readings"] == 10
    _feed(db_session, sensor, at + timedelta(minutes=1), [34.0])
    assert stuck.state == "cleared_unack"
