"""The MQTT door against the real Mosquitto (127.0.0.1:1883; .ci/run starts it): events stored once per id
with QoS 1, state reports, a persistent session that loses nothing while the consumer is down, commands
published at commit and acknowledged on the ack topic, and the per-device ACL written by `flask devices acl`
enforced by a broker of the test's own. Each test uses its own topic prefix."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from device_setup import add_device
from private_servers import _wait_port, free_port

from app.devices import commands, events
from app.devices.consumer import Consumer
from app.devices.models import DeviceCommand, DeviceEvent
from app.devices.mqtt import Broker, new_client, topic
from app.devices.registry import mqtt_username

pytestmark = pytest.mark.postgres


def _broker_up(port: int = 1883) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def broker(app, monkeypatch):
    """The machine's Mosquitto with a topic prefix of this test's own (a test fails, never skips, without it)."""
    if not _broker_up():
        pytest.fail("Mosquitto is not answering on 127.0.0.1:1883 (.ci/run starts it)")
    prefix = f"t{uuid.uuid4().hex[:10]}"
    monkeypatch.setitem(app.config, "MQTT_TOPIC_PREFIX", prefix)
    monkeypatch.setitem(app.config, "MQTT_URL", "mqtt://127.0.0.1:1883")
    return Broker(prefix=prefix)


def _client(broker: Broker, **kw) -> paho.Client:
    client = new_client(broker, **kw)
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    return client


def _publish(client: paho.Client, name: str, payload: dict) -> None:
    client.publish(name, json.dumps(payload), qos=1).wait_for_publish(5)


def _until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


class Running:
    """A consumer on its own thread for the duration of a with-block."""

    def __init__(self, app, broker: Broker, client_id: str) -> None:
        self.consumer = Consumer(app, broker, client_id=client_id)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.consumer.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Consumer:
        self.thread.start()
        assert self.consumer.connected.wait(10), "consumer did not connect"
        return self.consumer

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def lift(app, db_session, make_community):
    device, secret = add_device(app, db_session, make_community(), "lift-30-1", "lift_gateway", building_number="30")
    db_session.commit()
    return device


def test_events_are_stored_once_and_state_updates_the_device(app, db_session, broker, lift):
    device_topic = topic(broker.prefix, lift.community_id, lift.code, "event")
    sender = _client(broker)
    try:
        with Running(app, broker, f"linli-test-{uuid.uuid4().hex[:8]}") as consumer:
            for event_id in ("e1", "e2", "e1"):  # e1 twice: QoS 1 may deliver a message more than once
                _publish(sender, device_topic, {"id": event_id, "type": "ebike_left", "at": int(time.time())})
            _publish(sender, topic(broker.prefix, lift.community_id, lift.code, "state"), {"battery": 77})
            _publish(sender, topic(broker.prefix, lift.community_id, "no-such", "event"), {"id": "x", "type": "y"})
            _publish(sender, device_topic, {"id": "bad"})  # no type: refused, logged, acknowledged
            _until(lambda: consumer.counters.received >= 6)
            assert (consumer.counters.stored, consumer.counters.duplicates, consumer.counters.refused) == (2, 1, 2)
    finally:
        sender.loop_stop()
        sender.disconnect()
    db_session.expire_all()
    assert sorted(e.event_id for e in db_session.query(DeviceEvent).filter_by(device_id=lift.id)) == ["e1", "e2"]
    db_session.refresh(lift)
    assert lift.battery == 77 and lift.online


def test_nothing_is_lost_while_the_consumer_is_down(app, db_session, broker, lift):
    client_id = f"linli-test-{uuid.uuid4().hex[:8]}"
    with Running(app, broker, client_id):
        pass  # the broker now keeps a persistent session for this client id
    sender = _client(broker)
    try:
        for i in range(50):
            _publish(sender, topic(broker.prefix, lift.community_id, lift.code, "event"),
                     {"id": f"down-{i}", "type": "ebike_left"})
    finally:
        sender.loop_stop()
        sender.disconnect()
    with Running(app, broker, client_id) as consumer:
        _until(lambda: consumer.counters.stored >= 50)
    db_session.expire_all()
    assert db_session.query(DeviceEvent).filter_by(device_id=lift.id).count() == 50


def test_a_command_is_published_within_300_ms_of_the_event_and_acked(app, db_session, broker, lift):
    def hold(session, device, event, now):
        commands.send_command(session, device, "hold_doors", {"seconds": 60}, now=now, reason="test")

    events.add_handler("test_mqtt_hold", hold)
    received: list[tuple[float, dict]] = []
    device_client = new_client(broker)
    device_client.on_message = lambda _c, _u, msg: received.append((time.monotonic(), json.loads(msg.payload)))
    device_client.connect(broker.host, broker.port)
    device_client.subscribe(topic(broker.prefix, lift.community_id, lift.code, "cmd"), qos=1)
    device_client.loop_start()
    try:
        with Running(app, broker, f"linli-test-{uuid.uuid4().hex[:8]}") as consumer:
            time.sleep(0.3)  # the device's subscription is in place
            sent_at = time.monotonic()
            _publish(device_client, topic(broker.prefix, lift.community_id, lift.code, "event"),
                     {"id": "ebike-1", "type": "test_mqtt_hold"})
            _until(lambda: received, timeout=5)
            latency = received[0][0] - sent_at
            command = received[0][1]
            assert command["name"] == "hold_doors" and command["params"] == {"seconds": 60}
            assert latency < 0.3, f"command published {latency * 1000:.0f} ms after the event"
            _publish(device_client, topic(broker.prefix, lift.community_id, lift.code, "ack"),
                     {"command_id": command["id"], "ok": True})
            _until(lambda: consumer.counters.stored >= 2)
    finally:
        device_client.loop_stop()
        device_client.disconnect()
    db_session.expire_all()
    assert db_session.get(DeviceCommand, command["id"]).status == "acked"


def _hash(password: str) -> str:
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101, 64)
    return f"$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@pytest.fixture
def private_broker():
    """A Mosquitto of this test's own on a free port, started from the files `flask devices acl` writes."""
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed")
    folder = Path(tempfile.mkdtemp(prefix="linli-mqtt-"))
    port = free_port()
    procs = []

    def start() -> None:
        conf = folder / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {folder}/passwd\n"
                        f"acl_file {folder}/acl\npersistence false\n" + ("user root\n" if os.geteuid() == 0 else ""))
        procs.append(subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        _wait_port(port, up=True)

    yield folder, port, start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


def test_each_device_may_publish_and_read_only_its_own_topics(app, db_session, make_community, monkeypatch,
                                                               private_broker):
    folder, port, start = private_broker
    community = make_community()
    lift_a, secret_a = add_device(app, db_session, community, "lift-a", "lift_gateway")
    lift_b, secret_b = add_device(app, db_session, community, "lift-b", "lift_gateway")
    db_session.commit()
    monkeypatch.setitem(app.config, "MQTT_URL", f"mqtt://linli:service-pw@127.0.0.1:{port}")
    result = app.test_cli_runner().invoke(args=["devices", "acl", "--passwd", str(folder / "passwd"), "--acl",
                                                str(folder / "acl"), "--service-password-hash", _hash("service-pw")])
    assert result.exit_code == 0, result.output
    assert f"user {mqtt_username(lift_a)}" in (folder / "acl").read_text()
    assert secret_a not in (folder / "passwd").read_text()  # only the hash is written
    start()
    prefix = app.config.get("MQTT_TOPIC_PREFIX") or "linli"
    service = Broker("127.0.0.1", port, "linli", "service-pw", prefix)
    seen: list[str] = []
    watcher = new_client(service)
    watcher.on_message = lambda _c, _u, msg: seen.append(msg.topic)
    watcher.connect("127.0.0.1", port)
    watcher.subscribe(f"{prefix}/+/+/event", qos=1)
    watcher.loop_start()
    a = _client(Broker("127.0.0.1", port, mqtt_username(lift_a), secret_a, prefix))
    a_cmds: list[str] = []
    a.on_message = lambda _c, _u, msg: a_cmds.append(msg.topic)
    a.subscribe([(topic(prefix, community.id, "lift-a", "cmd"), 1), (topic(prefix, community.id, "lift-b", "cmd"), 1)])
    try:
        time.sleep(0.3)
        _publish(a, topic(prefix, community.id, "lift-b", "event"), {"id": "forged", "type": "x"})  # not its own
        _publish(a, topic(prefix, community.id, "lift-a", "event"), {"id": "own", "type": "x"})
        _publish(watcher, topic(prefix, community.id, "lift-b", "cmd"), {"id": 1})
        _publish(watcher, topic(prefix, community.id, "lift-a", "cmd"), {"id": 2})
        _until(lambda: seen and a_cmds)
        time.sleep(0.3)
        assert seen == [topic(prefix, community.id, "lift-a", "event")]
        assert a_cmds == [topic(prefix, community.id, "lift-a", "cmd")]
        wrong = new_client(Broker("127.0.0.1", port, mqtt_username(lift_b), secret_a, prefix))  # a's secret
        answers = []
        wrong.on_connect = lambda _c, _u, _f, reason, _p: answers.append(reason)
        wrong.connect("127.0.0.1", port)
        wrong.loop_start()
        _until(lambda: answers, timeout=5)
        wrong.loop_stop()
        assert answers[0].is_failure and secret_b != secret_a
    finally:
        for client in (a, watcher):
            client.loop_stop()
            client.disconnect()
