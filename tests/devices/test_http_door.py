"""The HTTP door: signed event and state reports (HMAC over timestamp + body), the timestamp window, replays
refused, events stored once per id, and an HTTP device fetching and acknowledging its commands."""

from __future__ import annotations

import time

import pytest
from device_setup import add_device, signed_post

from app.core.clock import utcnow
from app.devices import commands, events
from app.devices.models import DeviceCommand, DeviceEvent
from app.devices.registry import rotate_secret


@pytest.fixture
def sensor(app, db_session, make_community):
    device, secret = add_device(app, db_session, make_community(), "temp-3-1-4", "temp_sensor", http=True,
                                building_number="3")
    db_session.commit()
    return device, secret


def test_signed_events_are_stored_once_and_handled_once(client, db_session, sensor):
    device, secret = sensor
    seen = []
    events.add_handler("test_probe_reading", lambda session, dev, event, now: seen.append(event.event_id))
    body = {"id": "t-1", "type": "test_probe_reading", "at": int(time.time()), "celsius": 41.5, "battery": 87}
    first = signed_post(client, device, secret, "/api/v1/devices/events", body)
    assert first.status_code == 200 and first.get_json() == {"stored": 1, "duplicates": 0}
    # the same event again, in a new signed request (a device retrying after a lost answer)
    again = signed_post(client, device, secret, "/api/v1/devices/events", {"events": [body]},
                        timestamp=int(time.time()) + 1)
    assert again.get_json() == {"stored": 0, "duplicates": 1}
    assert seen.count("t-1") == 1
    row = db_session.query(DeviceEvent).filter_by(device_id=device.id).one()
    assert row.payload["celsius"] == 41.5 and row.type == "test_probe_reading"
    db_session.refresh(device)
    assert device.online and device.battery == 87 and device.last_seen_at is not None


def test_bad_signatures_old_timestamps_and_replays_are_refused(client, db_session, sensor):
    device, secret = sensor
    body = {"id": "t-2", "type": "temperature"}
    assert signed_post(client, device, "wrong", "/api/v1/devices/events", body).get_json()["error"]["code"] == \
        "bad_signature"
    stale = signed_post(client, device, secret, "/api/v1/devices/events", body, timestamp=int(time.time()) - 400)
    assert stale.status_code == 401 and stale.get_json()["error"]["code"] == "stale_timestamp"
    ts = int(time.time())
    assert signed_post(client, device, secret, "/api/v1/devices/events", body, timestamp=ts).status_code == 200
    replay = signed_post(client, device, secret, "/api/v1/devices/events", body, timestamp=ts)
    assert replay.status_code == 409 and replay.get_json()["error"]["code"] == "replay"
    missing = client.post("/api/v1/devices/events", json=body)
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "missing_signature"
    bad = signed_post(client, device, secret, "/api/v1/devices/events", {"type": "temperature"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "missing_field"
    future = signed_post(client, device, secret, "/api/v1/devices/events",
                         {"id": "t-3", "type": "temperature", "at": int(time.time()) + 3600})
    assert future.status_code == 422 and future.get_json()["error"]["code"] == "future_event"
    garbage = signed_post(client, device, secret, "/api/v1/devices/events", b"{not json")
    assert garbage.status_code == 400


def test_a_rotated_secret_stops_the_old_one(app, client, db_session, sensor):
    device, secret = sensor
    new = rotate_secret(device, seal_key=app.config["SECRET_KEY"], now=utcnow())
    db_session.commit()
    assert new != secret and device.secret_hash.startswith("$7$101$") and secret not in device.secret_hash
    assert signed_post(client, device, secret, "/api/v1/devices/state", {"battery": 50}).status_code == 401
    ok = signed_post(client, device, new, "/api/v1/devices/state", {"battery": 50})
    assert ok.status_code == 200 and ok.get_json() == {"online": True, "battery": 50}


def test_http_device_fetches_its_commands_and_acknowledges_them(client, db_session, sensor):
    device, secret = sensor
    command = commands.send_command(db_session, device, "play_warning", {"text": "请勿"}, now=utcnow())
    db_session.commit()
    assert command.status == "pending"
    fetched = signed_post(client, device, secret, "/api/v1/devices/commands", {}).get_json()["commands"]
    assert [(c["id"], c["name"], c["params"]) for c in fetched] == [(command.id, "play_warning", {"text": "请勿"})]
    ack = {"id": "ack-1", "type": "command_ack", "command_id": command.id, "ok": True}
    assert signed_post(client, device, secret, "/api/v1/devices/events", ack).status_code == 200
    db_session.expire_all()
    settled = db_session.get(DeviceCommand, command.id)
    assert settled.status == "acked" and settled.acked_at is not None and settled.attempts == 1
    again = signed_post(client, device, secret, "/api/v1/devices/commands", {"nonce": "poll-2"})
    assert again.get_json()["commands"] == []  # each poll is a new signed body (the same one twice is a replay)
