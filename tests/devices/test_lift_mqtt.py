"""The e-bike path through the real Mosquitto (127.0.0.1:1883): the lift gateway's ebike_detected event reaches
the consumer, the rule holds the doors and plays the warning, and both commands are on the gateway's cmd topic
within 300 ms of the event being published (PostgreSQL pass)."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import pytest
from device_setup import add_device

from app.devices.consumer import Consumer
from app.devices.models import Alarm
from app.devices.mqtt import Broker, new_client, topic
from app.devices.rule_models import LiftCase

pytestmark = pytest.mark.postgres


def _until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


@pytest.fixture
def broker(app, monkeypatch):
    """The machine's Mosquitto with a topic prefix of this test's own."""
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        pytest.fail("Mosquitto is not answering on 127.0.0.1:1883 (.ci/run starts it)")
    prefix = f"r{uuid.uuid4().hex[:10]}"
    monkeypatch.setitem(app.config, "MQTT_TOPIC_PREFIX", prefix)
    monkeypatch.setitem(app.config, "MQTT_URL", "mqtt://127.0.0.1:1883")
    return Broker(prefix=prefix)


def test_ebike_hold_and_warning_are_published_within_300_ms(app, db_session, broker, make_community):
    lift, _ = add_device(app, db_session, make_community(), "lift-28-1", "lift_gateway", building_number="28")
    db_session.commit()
    received: list[tuple[float, dict]] = []
    gateway = new_client(broker)
    gateway.on_message = lambda _c, _u, msg: received.append((time.monotonic(), json.loads(msg.payload)))
    gateway.connect(broker.host, broker.port)
    gateway.subscribe(topic(broker.prefix, lift.community_id, lift.code, "cmd"), qos=1)
    gateway.loop_start()
    consumer = Consumer(app, broker, client_id=f"linli-rules-{uuid.uuid4().hex[:8]}")
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert consumer.connected.wait(10), "consumer did not connect"
        time.sleep(0.3)  # the gateway's subscription is in place
        sent_at = time.monotonic()
        gateway.publish(topic(broker.prefix, lift.community_id, lift.code, "event"),
                        json.dumps({"id": "ebike-mqtt-1", "type": "ebike_detected", "tag": "EB-1"}),
                        qos=1).wait_for_publish(5)
        _until(lambda: len(received) >= 2, timeout=5)
    finally:
        stop.set()
        thread.join(10)
        gateway.loop_stop()
        gateway.disconnect()
    names = [message["name"] for _, message in received[:2]]
    latency = max(at for at, _ in received[:2]) - sent_at
    assert sorted(names) == ["hold_doors", "play_warning"]
    assert latency < 0.3, f"hold and warning published {latency * 1000:.0f} ms after the event"
    db_session.expire_all()
    assert db_session.query(Alarm).filter_by(device_id=lift.id, type="ebike_in_lift").count() == 1
    assert db_session.query(LiftCase).filter_by(device_id=lift.id, tag="EB-1").count() == 1
