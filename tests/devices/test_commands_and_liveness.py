"""Commands are retried and time out when not acknowledged (each step on the alarm's timeline); a device that
goes silent is marked offline with a device_offline fault that clears when it speaks again; state reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from device_setup import add_device

from app.core.clock import local_now, utcnow
from app.core.errors import AppError
from app.devices import alarms, commands, events, liveness
from app.devices.models import Alarm


@pytest.fixture
def lift(app, db_session, make_community):
    device, _ = add_device(app, db_session, make_community(), "lift-1", "lift_gateway", building_number="28")
    return device


def test_unacknowledged_command_is_sent_again_then_times_out(db_session, lift):
    now = utcnow()
    alarm = alarms.raise_alarm(db_session, community_id=lift.community_id, type="ebike_in_lift", severity="major",
                               now=now, device_id=lift.id)
    command = commands.send_command(db_session, lift, "hold_doors", {"seconds": 60}, now=now, timeout_s=3, retries=2,
                                    reason="电动车进电梯", alarm_id=alarm.id)
    assert command.status == "sent" and command.attempts == 1 and command.deadline_at == now + timedelta(seconds=3)
    queued = db_session.info["device_mqtt"]  # published when the transaction commits
    assert queued[0][:3] == (lift.community_id, "lift-1", "cmd") and queued[0][3]["id"] == command.id
    assert commands.sweep(db_session, now + timedelta(seconds=2)) == {"retried": 0, "timed_out": 0}
    assert commands.sweep(db_session, now + timedelta(seconds=3)) == {"retried": 1, "timed_out": 0}
    assert commands.sweep(db_session, now + timedelta(seconds=6)) == {"retried": 1, "timed_out": 0}
    assert commands.sweep(db_session, now + timedelta(seconds=9)) == {"retried": 0, "timed_out": 1}
    assert command.status == "timed_out" and command.attempts == 3
    texts = [e.text for e in alarms.timeline(db_session, alarm.id) if e.kind == "command"]
    assert texts[0].startswith("指令 hold_doors：已发出") and "超时未确认（共发送 3 次）" in texts[-1]
    db_session.rollback()  # nothing committed: nothing is published
    assert "device_mqtt" not in db_session.info


def test_ack_settles_and_a_failure_is_kept(db_session, lift):
    now = utcnow()
    ok = commands.send_command(db_session, lift, "play_warning", now=now)
    bad = commands.send_command(db_session, lift, "hold_doors", now=now)
    events.ingest(db_session, lift, {"id": "a1", "type": "command_ack", "command_id": ok.id}, now)
    events.ingest(db_session, lift, {"id": "a2", "type": "command_ack", "command_id": bad.id, "ok": False,
                                     "error": "door_sensor_fault"}, now)
    assert ok.status == "acked" and bad.status == "failed" and "door_sensor_fault" in bad.reason
    assert commands.sweep(db_session, now + timedelta(minutes=5)) == {"retried": 0, "timed_out": 0}


def test_events_are_idempotent_and_validated(db_session, lift):
    now = utcnow()
    long_ago = (local_now() - timedelta(days=400)).isoformat()  # an old event time is still an event
    assert events.ingest(db_session, lift, {"id": 7, "type": "ebike_detected", "at": long_ago}, now) is not None
    assert events.ingest(db_session, lift, {"id": "7", "type": "ebike_detected"}, now) is None
    for bad, code in (({"type": "x"}, "missing_field"), ({"id": "8"}, "missing_field"),
                      ({"id": "9", "type": "x", "at": "yesterday"}, "invalid_field"),
                      ({"id": "9", "type": "x", "at": now.replace(tzinfo=None).isoformat()}, "invalid_field")):
        with pytest.raises(AppError) as err:
            events.ingest(db_session, lift, bad, now)
        assert err.value.code == code


def test_a_failing_rule_loses_neither_the_event_nor_the_other_rules(db_session, lift):
    seen = []

    def broken(session, device, event, now):
        raise RuntimeError("rule bug")

    events.add_handler("test_probe_swipe", broken)
    events.add_handler("test_probe_swipe", lambda session, device, event, now: seen.append(event.event_id))
    assert events.ingest(db_session, lift, {"id": "c1", "type": "test_probe_swipe"}, utcnow()) is not None
    assert seen == ["c1"]


def test_silent_devices_go_offline_with_a_fault_that_clears(db_session, lift):
    now = utcnow()
    events.apply_state(db_session, lift, {"battery": 64}, now)
    assert lift.online and lift.battery == 64
    assert liveness.mark_offline(db_session, now + timedelta(minutes=9)) == []
    assert liveness.mark_offline(db_session, now + timedelta(minutes=11)) == [lift.id]
    fault = db_session.query(Alarm).filter_by(device_id=lift.id, type="device_offline").one()
    assert not lift.online and fault.state == "active_unack" and fault.severity == "minor"
    assert liveness.mark_offline(db_session, now + timedelta(minutes=30)) == []  # once
    events.apply_state(db_session, lift, {}, now + timedelta(minutes=31))
    assert lift.online and fault.state == "cleared_unack"
    events.apply_state(db_session, lift, {"online": False}, now + timedelta(minutes=32))
    assert not lift.online
