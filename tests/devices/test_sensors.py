"""Corridor sensors on the same rules as air quality: temperature above 55 °C held 60 s, smoke at once, a leak
held 30 s, each cleared with hysteresis; per-device thresholds; no-data faults."""

from __future__ import annotations

from datetime import timedelta

import pytest
from device_rules_world import device, send

from app.devices import sensors
from app.devices.models import Alarm


@pytest.fixture
def corridor(app, db_session, make_community):
    community = make_community()
    return {kind: device(app, db_session, community, f"{kind}-30-b1", kind, building_number="30",
                         location="30幢地下一层走廊")
            for kind in ("temp_sensor", "smoke_sensor", "leak_sensor")}


def _alarms(db_session, type_):
    return db_session.query(Alarm).filter_by(type=type_).all()


def test_temperature_must_stay_above_55_for_60_seconds(db_session, corridor, clock):
    temp = corridor["temp_sensor"]
    t0 = clock.at(3, 0)
    send(db_session, temp, "temperature", t0, value=56.0)
    send(db_session, temp, "temperature", t0 + timedelta(seconds=30), value=58.0)
    send(db_session, temp, "temperature", t0 + timedelta(seconds=45), value=54.0)  # dipped: the wait restarts
    send(db_session, temp, "temperature", t0 + timedelta(seconds=70), value=57.0)
    send(db_session, temp, "temperature", t0 + timedelta(seconds=125), value=57.5)
    assert _alarms(db_session, "temperature") == []
    send(db_session, temp, "temperature", t0 + timedelta(seconds=130), value=57.5)
    alarm = _alarms(db_session, "temperature")[0]
    assert alarm.severity == "major" and alarm.details["value"] == 57.5 and alarm.details["for_s"] == 60
    send(db_session, temp, "temperature", t0 + timedelta(seconds=200), value=52.0)  # in the band: still hot
    send(db_session, temp, "temperature", t0 + timedelta(seconds=260), value=45.0)
    send(db_session, temp, "temperature", t0 + timedelta(seconds=330), value=44.0)
    assert alarm.state == "cleared_unack"


def test_smoke_at_once_and_a_leak_after_30_seconds(db_session, corridor, clock):
    t0 = clock.at(3, 0)
    send(db_session, corridor["smoke_sensor"], "smoke", t0, smoke=True)
    assert _alarms(db_session, "smoke")[0].severity == "critical"
    leak = corridor["leak_sensor"]
    send(db_session, leak, "water_leak", t0, leak=True)
    send(db_session, leak, "water_leak", t0 + timedelta(seconds=29), leak=True)
    assert _alarms(db_session, "water_leak") == []
    send(db_session, leak, "water_leak", t0 + timedelta(seconds=30), leak=True)
    assert len(_alarms(db_session, "water_leak")) == 1
    send(db_session, corridor["smoke_sensor"], "smoke", t0 + timedelta(seconds=40), smoke=False)
    assert _alarms(db_session, "smoke")[0].state == "cleared_unack"


def test_thresholds_come_from_the_device_settings(db_session, corridor, clock):
    temp = corridor["temp_sensor"]
    temp.settings = {**temp.settings, "temperature": {"on_above": 40, "for_s": 0}}
    send(db_session, temp, "temperature", clock.at(3, 0), value=41)
    assert len(_alarms(db_session, "temperature")) == 1


def test_readings_without_a_usable_value_are_ignored(db_session, corridor, clock):
    at = clock.at(3, 0)
    for i, value in enumerate(["hot", "nan", "inf", "1e999", None, [60], {"v": 60}]):
        send(db_session, corridor["temp_sensor"], "temperature", at + timedelta(seconds=i), value=value)
    send(db_session, corridor["smoke_sensor"], "smoke", at, note="no value")
    assert db_session.query(Alarm).count() == 0
    assert sensors.reading({"value": "61.5"}, ("value",)) == 61.5 and sensors.reading({"leak": True}, ("leak",)) == 1


def test_a_silent_sensor_raises_no_data_after_three_intervals(db_session, corridor, clock):
    leak = corridor["leak_sensor"]  # reports every 300 s by default
    t0 = clock.at(3, 0)
    send(db_session, leak, "water_leak", t0, leak=False)
    assert sensors.sweep_silent(db_session, t0 + timedelta(seconds=899)) == 0
    assert sensors.sweep_silent(db_session, t0 + timedelta(seconds=900)) == 1
    fault = _alarms(db_session, "no_data")[0]
    assert fault.device_id == leak.id and fault.details["interval_s"] == 300
    send(db_session, leak, "water_leak", t0 + timedelta(seconds=1000), leak=False)
    assert fault.state == "cleared_unack"
