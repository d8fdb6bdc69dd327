"""The MQTT door: a consumer of every device's event, state and ack topics (QoS 1, an MQTT 5 persistent session under
a stable client id, reconnect with backoff). Messages are stored in batches and acknowledged to the broker
only after their transaction commits, so a crash loses nothing (the broker sends them again) and a message
sent twice is stored once (event ids)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from flask import Flask
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import AppError
from app.devices import events
from app.devices.models import Device
from app.devices.mqtt import Broker, parse_topic
from app.devices.registry import find_device

log = logging.getLogger(__name__)
SESSION_EXPIRY = 24 * 3600  # seconds the broker keeps our session (and queues for us) while we are away
RECEIVE_MAXIMUM = 10000  # QoS 1 messages the broker may have in flight to us


@dataclass
class Counters:
    """What the consumer has done since it started."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    batches: int = 0
    connects: int = 0
    by_kind: dict = field(default_factory=dict)


class Consumer:
    """Subscribe to <prefix>/+/+/event|state|ack and store what arrives; run() until stop is set."""

    def __init__(self, app: Flask, broker: Broker, *, client_id: str = "linli-devices", batch_max: int = 500,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self.app, self.broker, self.client_id, self.batch_max = app, broker, client_id, batch_max
        self.inbox: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self.counters = Counters()
        self.connected = threading.Event()
        self.on_batch = on_batch
        self._devices: dict[tuple[int, str], int | None] = {}
        # MQTT 5: a persistent session (clean start off, kept a day) and a large Receive Maximum, so the broker
        # hands a burst to us in flight instead of queueing it against its per-client queue limit
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5,
                             manual_ack=True)
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        client.reconnect_delay_set(min_delay=1, max_delay=30)  # backoff while the broker is away
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = lambda *_: self.connected.set()  # ready once the broker has the subscriptions
        client.on_message = lambda _c, _u, msg: self.inbox.put(msg)
        self.client = client

    def _on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            log.error("mqtt: broker refused the connection: %s", reason)
            return
        prefix = self.broker.prefix
        client.subscribe([(f"{prefix}/+/+/{kind}", 1) for kind in ("event", "state", "ack")])
        self.counters.connects += 1
        log.info("mqtt: connected to %s:%s as %s", self.broker.host, self.broker.port, self.client_id)

    def _on_disconnect(self, _client, _userdata, _flags, reason, _properties) -> None:
        self.connected.clear()
        log.warning("mqtt: disconnected (%s); reconnecting with backoff", reason)

    def start(self) -> None:
        """Connect (retried in the background) and start the network loop."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30, clean_start=False,
                                  properties=properties)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network loop (the broker keeps the session for the next start)."""
        self.client.disconnect()
        self.client.loop_stop()

    def run(self, stop: threading.Event) -> None:
        """Store messages in batches until stop is set."""
        self.start()
        try:
            while not stop.is_set():
                self.drain(timeout=0.2)
        finally:
            self.drain(timeout=0)
            self.stop()

    def drain(self, timeout: float = 0.2) -> int:
        """Store one batch of waiting messages (waiting up to timeout for the first) and acknowledge them."""
        try:
            batch = [self.inbox.get(timeout=timeout) if timeout else self.inbox.get_nowait()]
        except queue.Empty:
            return 0
        while len(batch) < self.batch_max:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        delay = 0.5
        while True:
            try:
                self._store(batch)
                break
            except Exception:  # the database is away: keep the batch, try again, never ack unstored work
                log.exception("mqtt: storing a batch of %d failed; retrying in %.1fs", len(batch), delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)
        for msg in batch:
            if msg.qos:
                self.client.ack(msg.mid, msg.qos)
        self.counters.batches += 1
        if self.on_batch is not None:
            self.on_batch(len(batch))
        return len(batch)

    def _store(self, batch: list[paho.MQTTMessage]) -> None:
        with self.app.app_context():
            session = db.session
            try:
                now = utcnow()
                counts = Counters()
                self._load_devices(session, batch)
                waiting = [item for msg in batch if (item := self._one(session, msg, now, counts)) is not None]
                for stored in events.ingest_many(session, waiting, now):
                    if stored is None:
                        counts.duplicates += 1
                    else:
                        counts.stored += 1
                session.commit()
            except Exception:
                session.rollback()
                raise
        c = self.counters
        c.received += len(batch)
        c.stored, c.duplicates, c.refused = c.stored + counts.stored, c.duplicates + counts.duplicates, \
            c.refused + counts.refused

    def _load_devices(self, session, batch: list[paho.MQTTMessage]) -> None:
        """Load the batch's known devices in one query (the session's identity map then serves them)."""
        keys = {parsed[:2] for msg in batch if (parsed := parse_topic(self.broker.prefix, msg.topic))}
        ids = [self._devices[k] for k in keys if self._devices.get(k) is not None]
        if ids:
            session.scalars(select(Device).where(Device.id.in_(ids))).all()

    def _device(self, session, community_id: int, code: str) -> Device | None:
        key = (community_id, code)
        if key not in self._devices:
            device = find_device(session, community_id, code)
            self._devices[key] = device.id if device is not None and device.active else None
        device_id = self._devices[key]
        return session.get(Device, device_id) if device_id is not None else None

    def _one(self, session, msg: paho.MQTTMessage, now, counts: Counters) -> tuple[Device, dict] | None:
        """A state message applied, or an event (or ack) checked and returned for the batch's insert."""
        parsed = parse_topic(self.broker.prefix, msg.topic)
        device = self._device(session, parsed[0], parsed[1]) if parsed else None
        if device is None:
            counts.refused += 1
            log.warning("mqtt: message on %s from no known device, dropped", msg.topic)
            return None
        try:
            body = json.loads(msg.payload)
            kind = parsed[2]
            if kind == "state":
                events.apply_state(session, device, body, now)
                return None
            if kind == "ack":
                if not isinstance(body, dict):
                    raise AppError("ack 应为 JSON 对象", code="invalid_body")
                body = {**body, "id": body.get("id") or f"ack-{body.get('command_id')}-{body.get('attempt', 1)}",
                        "type": "command_ack"}
            events.prepare_event(device, body, now)  # checked here: one bad event never holds back the batch
        except (ValueError, AppError) as exc:  # bad JSON or a bad event: logged and dropped, never retried
            counts.refused += 1
            log.warning("mqtt: refused message on %s: %s", msg.topic, exc)
            return None
        return device, body


def listen(app: Flask, broker: Broker, *, client_id: str, stop: threading.Event, batch_max: int = 500) -> None:
    """Run the consumer until stop is set, restarting it (with backoff) if it ever fails: the supervised loop
    of `flask devices listen`."""
    delay = 1.0
    while not stop.is_set():
        consumer = Consumer(app, broker, client_id=client_id, batch_max=batch_max)
        try:
            consumer.run(stop)
            delay = 1.0
        except Exception:
            log.exception("mqtt consumer failed; restarting in %.0fs", delay)
            stop.wait(delay)
            delay = min(delay * 2, 60)
