"""MQTT door benchmark: events published with QoS 1 through the real Mosquitto (127.0.0.1:1883) to the device
consumer (a separate process, as `flask devices listen` runs), stored in PostgreSQL.

    .venv/bin/python bench/mqtt_bench.py [--seconds 30] [--rate 200] [--burst 2000] [--devices 20]

Phase 1 publishes `rate` events a second for `seconds`; phase 2 a burst of `burst` events in one second. Prints,
per phase: sent, stored, lost, duplicates, the publish rate and the rate at which the consumer stored them.
It drops and recreates the bench database's schema: point it only at a bench database (default linli_mqtt_bench,
Redis db 12).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/linli_mqtt_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
ERR_LOG = "/tmp/linli-mqtt-bench-consumer.log"
READY_FILE = "/tmp/linli-mqtt-bench-consumer.ready"


def build_app(db_url: str, redis_url: str, prefix: str):
    from app import create_app
    from config import Config

    config = Config()
    config.LINLI_ENV = "development"
    config.SQLALCHEMY_DATABASE_URI, config.REDIS_URL, config.CHECK_MIGRATIONS = db_url, redis_url, False
    config.SECRET_KEY = "bench-secret"
    config.MQTT_TOPIC_PREFIX = prefix
    return create_app(config)


def prepare(db_url: str, redis_url: str, prefix: str, devices: int) -> list[tuple[int, str]]:
    """A fresh schema with one community and its devices; returns their (community id, code)."""
    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.community.models import Community
    from app.core.clock import utcnow
    from app.core.db import db
    from app.devices.registry import register_device

    base, _, name = db_url.replace("+psycopg", "").rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    app = build_app(db_url, redis_url, prefix)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        community = Community(name="压测小区", kind="standard")
        db.session.add(community)
        db.session.flush()
        out = []
        for i in range(devices):
            device, _ = register_device(db.session, community_id=community.id, code=f"bench-{i}", kind="camera",
                                        now=utcnow(), seal_key="bench-secret")
            out.append((community.id, device.code))
        db.session.commit()
    return out


def consume(db_url: str, redis_url: str, prefix: str, client_id: str) -> None:
    """The consumer process: run until SIGTERM; READY_FILE appears once it has subscribed."""
    from app.devices.consumer import Consumer
    from app.devices.mqtt import broker_from_config

    app = build_app(db_url, redis_url, prefix)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer = Consumer(app, broker_from_config(app.config), client_id=client_id)
    threading.Thread(target=lambda: consumer.connected.wait(60) and Path(READY_FILE).touch(), daemon=True).start()
    consumer.run(stop)


def stored_count(db_url: str) -> int:
    import psycopg

    with psycopg.connect(db_url.replace("+psycopg", "")) as conn:
        return conn.execute("SELECT count(*) FROM device_event").fetchone()[0]


def publish_phase(client, devices, prefix: str, total: int, rate: float, tag: str) -> tuple[float, list]:
    """Publish `total` events at `rate` a second (paced every 10 ms); returns the seconds it took and the infos."""
    infos = []
    start = time.monotonic()
    for n in range(total):
        due = start + n / rate
        delay = due - time.monotonic()
        if delay > 0.01:
            time.sleep(delay)
        community_id, code = devices[n % len(devices)]
        body = {"id": f"{tag}-{n}", "type": "bench", "at": int(time.time()), "seq": n}
        infos.append(client.publish(f"{prefix}/{community_id}/{code}/event", json.dumps(body), qos=1))
    for info in infos:
        info.wait_for_publish(60)
    return time.monotonic() - start, infos


def wait_stored(db_url: str, target: int, timeout: float = 120) -> tuple[int, float]:
    start, last, last_change = time.monotonic(), -1, time.monotonic()
    while time.monotonic() - start < timeout:
        count = stored_count(db_url)
        if count >= target:
            return count, time.monotonic() - start
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > 15:
            break  # nothing moved for 15 s: what is missing is lost
        time.sleep(0.1)
    return stored_count(db_url), time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--db", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--consume", nargs=2, metavar=("PREFIX", "CLIENT_ID"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consume:
        consume(args.db, args.redis, *args.consume)
        return

    import paho.mqtt.client as paho

    prefix, client_id = f"bench{uuid.uuid4().hex[:6]}", f"linli-bench-{uuid.uuid4().hex[:6]}"
    devices = prepare(args.db, args.redis, prefix, args.devices)
    proc = subprocess.Popen([sys.executable, __file__, "--db", args.db, "--redis", args.redis, "--consume", prefix,
                             client_id], stdout=subprocess.DEVNULL, stderr=open(ERR_LOG, "w"))
    Path(READY_FILE).unlink(missing_ok=True)
    proc_started = time.monotonic()
    while not Path(READY_FILE).exists():  # the consumer has connected and subscribed
        if time.monotonic() - proc_started > 60 or proc.poll() is not None:
            raise SystemExit(f"the consumer did not start; see {ERR_LOG}")
        time.sleep(0.1)
    time.sleep(0.5)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    rows = []
    try:
        total, stored_before = 0, 0
        for name, count, rate in (("sustained", int(args.rate * args.seconds), args.rate),
                                  ("burst", args.burst, float(args.burst))):
            took, _infos = publish_phase(client, devices, prefix, count, rate, name)
            total += count
            started = time.monotonic() - took
            stored, _waited = wait_stored(args.db, total)
            got, stored_before = stored - stored_before, stored
            rows.append((name, count, got, count - got, count / took, got / (time.monotonic() - started)))
    finally:
        client.loop_stop()
        client.disconnect()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"{'phase':<10} {'sent':>6} {'stored':>7} {'lost':>5} {'publish/s':>10} {'stored/s':>9}")
    for name, sent, got, lost, pub_rate, store_rate in rows:
        print(f"{name:<10} {sent:>6} {got:>7} {lost:>5} {pub_rate:>10.0f} {store_rate:>9.0f}")
    dupes_note = "duplicates: none possible in storage (unique device+event id); QoS 1 redeliveries are skipped"
    print(dupes_note)


if __name__ == "__main__":
    main()
