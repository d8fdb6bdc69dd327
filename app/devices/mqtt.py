"""MQTT plumbing: topic names (linli/<community id>/<device code>/event|state|cmd|ack), the broker settings,
and the one publisher that sends commands as soon as the transaction that wrote them commits."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
DEFAULT_URL = "mqtt://127.0.0.1:1883"
DEFAULT_PREFIX = "linli"
KINDS = ("event", "state", "cmd", "ack")
_lock = threading.Lock()
_publishers: dict[tuple, paho.Client] = {}


@dataclass(frozen=True)
class Broker:
    """Where the broker is and how we sign in; prefix: the first topic level."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    prefix: str = DEFAULT_PREFIX


def broker_from_config(config) -> Broker:
    """The broker of an app's config: MQTT_URL (mqtt://user:pass@host:port), MQTT_TOPIC_PREFIX."""
    url = urlsplit(config.get("MQTT_URL") or DEFAULT_URL)
    return Broker(url.hostname or "127.0.0.1", url.port or 1883, url.username or config.get("MQTT_USERNAME"),
                  url.password or config.get("MQTT_PASSWORD"), config.get("MQTT_TOPIC_PREFIX") or DEFAULT_PREFIX)


def topic(prefix: str, community_id: int, code: str, kind: str) -> str:
    """The topic of one device's event, state, cmd or ack stream."""
    if kind not in KINDS:
        raise ValueError(kind)
    return f"{prefix}/{community_id}/{code}/{kind}"


def parse_topic(prefix: str, name: str) -> tuple[int, str, str] | None:
    """(community id, device code, kind) of a topic, or None when it is not one of ours."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != prefix or not parts[1].isdigit() or parts[3] not in KINDS:
        return None
    return int(parts[1]), parts[2], parts[3]


def new_client(broker: Broker, client_id: str | None = None, *, clean_session: bool = True,
               manual_ack: bool = False) -> paho.Client:
    """A paho client (MQTT 3.1.1) for this broker, not yet connected."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id or f"linli-{uuid.uuid4().hex[:12]}",
                         clean_session=clean_session, manual_ack=manual_ack)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    return client


def publisher(broker: Broker) -> paho.Client:
    """The process's publishing client for this broker, connected with its network loop running."""
    key = (broker.host, broker.port, broker.username)
    client = _publishers.get(key)
    if client is None:
        with _lock:
            client = _publishers.get(key)
            if client is None:
                client = new_client(broker)
                client.max_queued_messages_set(10000)
                client.reconnect_delay_set(1, 30)
                client.connect_async(broker.host, broker.port, keepalive=30)
                client.loop_start()
                _publishers[key] = client
    return client


def publish(broker: Broker, name: str, payload: dict) -> None:
    """Publish a JSON message with QoS 1 (queued in the client while the broker is away)."""
    publisher(broker).publish(name, json.dumps(payload, ensure_ascii=False), qos=1)


def publish_after_commit(session: Session, community_id: int, code: str, kind: str, payload: dict) -> None:
    """Publish to a device's topic when this session's transaction commits (nothing if it rolls back)."""
    session.info.setdefault("device_mqtt", []).append((community_id, code, kind, payload))


def _after_commit(session: Session) -> None:
    waiting = session.info.pop("device_mqtt", None)
    if not waiting:
        return
    broker = broker_from_config(current_app.config) if has_app_context() else Broker()
    for community_id, code, kind, payload in waiting:
        name = topic(broker.prefix, community_id, code, kind)
        try:
            publish(broker, name, payload)
        except Exception:  # the sweep sends it again
            log.exception("mqtt publish to %s failed", name)


def _after_rollback(session: Session) -> None:
    session.info.pop("device_mqtt", None)


def install() -> None:
    """Hook the after-commit publishing into every session (once)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
