"""Event → staff alert latency, end to end through the real pieces (issue 17: p95 ≤ 10 s).

    .venv/bin/python bench/alarm_latency.py [--events 40] [--interval 0.5] [--per-community 10]

Each event is a `smoke` reading from its own corridor smoke sensor, published with QoS 1 (paho-mqtt) to the
machine's Mosquitto; `flask devices listen` (its own process) stores it and raises a critical alarm, whose
page job goes through the outbox to RQ and runs in a real worker (`python -m workers worker`), which sends a
WeChat Work card to the staff in scope. The fake WeChat API (fakewechat) is served on loopback in this
process and records when each request arrived. The latency of an event is the time from just before
`publish()` to the arrival of the successful `message/send` request carrying its alarm's card (`#<alarm id>`)
at the WeChat Work API — the moment WeChat Work accepts the alert, not the moment a phone rings.

Floods (more than 10 new alarms in 10 minutes in one community) are paged once by design, so the events are
spread over ceil(events / per-community) communities: the demo community (`flask seed-demo`) first, then
small bench communities with their own staff (WeChat Work ids set). With --per-community above 10 the extra
alarms are grouped; they are reported as grouped, not as lost.

Uses its own database (linli_alarm_bench, created and dropped; or --db URL, whose schema is rebuilt) and
Redis db 15 (flushed before and after). The consumer runs under a client id of its own, whose persistent MQTT
session is removed at the end. The broker is 127.0.0.1:1883 and the topic prefix `linli`: `flask devices
listen` reads MQTT_URL / MQTT_TOPIC_PREFIX from app.config, but Config never takes them from the environment,
so the CLI cannot be pointed elsewhere (any other consumer on linli/+/+/event drops these events as unknown
devices).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/linli_alarm_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
SEND_PATH = "/cgi-bin/message/send"
BROKER = ("127.0.0.1", 1883)
PREFIX = "linli"  # the only prefix `flask devices listen` can use (see above)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events")
    parser.add_argument("--per-community", type=int, default=10, help="events per community (floods: > 10)")
    parser.add_argument("--db", default=None, help="PostgreSQL URL (default: create and drop linli_alarm_bench)")
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for the last alerts")
    return parser.parse_args()


# ---------------------------------------------------------------- database, Redis, environment

def create_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_schema(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def app_env(args, fake_url: str, scratch: Path) -> dict:
    return {**os.environ, "LINLI_ENV": "development", "DATABASE_URL": args.db, "REDIS_URL": args.redis,
            "PYTHONPATH": str(ROOT), "CHECK_MIGRATIONS": "0", "SECRET_KEY": "alarm-bench-secret",
            "WECHAT_API_BASE_URL": fake_url, "WECOM_CORP_ID": "ww_alarm_bench", "WECOM_SECRET": "bench-secret",
            "WECOM_AGENT_ID": "1000002", "WECHAT_JOURNAL_DIR": str(scratch / "journal"),
            "UPLOAD_DIR": str(scratch / "uploads"), "FLASK_APP": "wsgi"}


def flask_cli(env: dict, *argv: str) -> None:
    out = subprocess.run([sys.executable, "-m", "flask", *argv], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"flask {' '.join(argv)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")


# ---------------------------------------------------------------- communities and devices

def prepare(events: int, per_community: int) -> tuple[list[tuple[int, str]], tuple[int, str]]:
    """Register one smoke sensor per event ((community id, code) each, per_community to a community: the demo
    community first, then bench communities with staff in scope), and a warm-up sensor of its own community."""
    from sqlalchemy import select

    from app import create_app
    from app.community.demo import DEMO_COMMUNITY
    from app.community.models import Building, Community, Staff
    from app.core.clock import utcnow
    from app.core.db import db
    from app.devices.registry import register_device

    app = create_app()
    with app.app_context():
        session = db.session
        communities = [session.scalar(select(Community).where(Community.name == DEMO_COMMUNITY))]
        for k in range(1, math.ceil(events / per_community) + 1):  # the last one is the warm-up's
            community = Community(name=f"告警压测小区{k}", kind="standard")
            session.add(community)
            session.flush()
            for n in ("1", "2", "3", "4"):
                session.add(Building(community_id=community.id, number=n, position=int(n)))
            for user, role, scope in ((f"ab{k}_kefu", "property", []), (f"ab{k}_repair", "repair_worker", ["1", "2"]),
                                      (f"ab{k}_steward", "steward", ["3", "4"])):
                session.add(Staff(community_id=community.id, username=user, name=user, role=role,
                                  password_hash="!", building_scope=scope, wecom_userid=user, active=True))
            session.flush()
            communities.append(community)
        devices = []
        warm_community, *communities = communities[-1:] + communities[:-1]
        for i in range(events + 1):
            community = warm_community if i == events else communities[i // per_community]
            numbers = sorted(session.scalars(select(Building.number).where(Building.community_id == community.id)))
            building = numbers[i % len(numbers)]
            code = "smoke-warmup" if i == events else f"smoke-bench-{i:03d}"
            device, _secret = register_device(
                session, community_id=community.id, code=code, kind="smoke_sensor", now=utcnow(),
                seal_key=app.config["SECRET_KEY"], name=f"{building}幢走廊烟感{i}", building=building,
                floor=1 + i % 6, location=f"{building}幢{1 + i % 6}楼走廊（压测{i}）")
            devices.append((community.id, device.code))
        session.commit()
    return devices[:-1], devices[-1]


# ---------------------------------------------------------------- processes

class Proc:
    """A child process with its output in a log file; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, argv: list[str], env: dict, scratch: Path) -> None:
        self.name, self.log = name, scratch / f"{name}.log"
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(what: str, check, timeout: float, procs: list[Proc]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for p in procs:
            if not p.alive():
                raise SystemExit(f"{p.name} exited while waiting for {what}:\n{p.tail()}")
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def forget_mqtt_session(host: str, port: int, client_id: str) -> None:
    """Remove the consumer's persistent session from the broker (connect with clean start, expiry 0)."""
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    try:
        client.connect(host, port, clean_start=True)
        client.loop_start()
        time.sleep(0.3)
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass


# ---------------------------------------------------------------- measuring

def sql(url: str, query: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(query, params or None).fetchall()


def epoch(naive_utc: datetime | None) -> float | None:
    return naive_utc.replace(tzinfo=UTC).timestamp() if naive_utc is not None else None


def delivered(fake) -> dict[int, tuple[float, str, str]]:
    """Alarm id -> (arrival time, touser, title) of the first successful raised card naming it."""
    out: dict[int, tuple[float, str, str]] = {}
    for call in fake.calls_to(SEND_PATH):
        if call.errcode != 0 or not isinstance(call.json, dict):
            continue
        card = call.json.get("template_card") or {}
        task = str(card.get("task_id", ""))
        if task.startswith("alarm-") and task.endswith("-raised"):
            alarm_id = int(task.split("-")[1])
            title = (card.get("main_title") or {}).get("title", "")
            out.setdefault(alarm_id, (call.at, call.json.get("touser", ""), title))
    return out


def rows_by_code(db: str) -> dict[str, dict]:
    """Per device code: the stored event, its alarm and the alarm's page job (outbox) times."""
    found = sql(db, """
        SELECT d.code, e.received_at, a.id, a.raised_at, a.group_key, o.created_at, o.enqueued_at, o.status
        FROM device d
        LEFT JOIN device_event e ON e.device_id = d.id AND e.type = 'smoke'
        LEFT JOIN alarm a ON a.device_id = d.id AND a.type = 'smoke'
        LEFT JOIN outbox o ON o.func = 'app.devices.jobs.page_alarm' AND o.args::jsonb = jsonb_build_array(a.id)
        WHERE d.code LIKE 'smoke-%'""")
    keys = ("received_at", "alarm_id", "raised_at", "group_key", "outbox_at", "enqueued_at", "job_status")
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in found}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def run(args) -> None:
    import paho.mqtt.client as paho

    from fakewechat import serve_in_thread

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's request log
    host, port = BROKER
    scratch = Path(tempfile.mkdtemp(prefix="linli-alarm-bench-"))
    fake_server, fake_url = serve_in_thread(0)
    fake = fake_server.fake
    env = app_env(args, fake_url, scratch)
    os.environ.update(env)  # this process's app (preparation) reads the same settings
    procs: list[Proc] = []
    client_id = f"linli-devices-bench-{uuid.uuid4().hex[:6]}"
    publisher = None
    try:
        t = time.monotonic()
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "seed-demo")
        devices, warm = prepare(args.events, args.per_community)
        print(f"prepared in {time.monotonic() - t:.0f}s: {args.events} smoke sensors in "
              f"{math.ceil(args.events / args.per_community)} communities (+1 warm-up)", flush=True)

        worker = Proc("worker", [sys.executable, "-m", "workers", "worker"], env, scratch)
        consumer = Proc("consumer", [sys.executable, "-m", "flask", "devices", "listen", "--client-id", client_id],
                        env, scratch)
        procs += [worker, consumer]

        from redis import Redis
        from rq import Queue, Worker

        conn = Redis.from_url(args.redis)
        wait_for("the RQ worker", lambda: len(Worker.all(connection=conn)) > 0, 90, procs)
        # the seed's own jobs first: the bench starts on an idle worker
        queues = [Queue(name, connection=conn) for name in ("high", "default", "low")]
        wait_for("the seed's jobs", lambda: not any(q.count for q in queues) and sql(
            args.db, "SELECT count(*) FROM outbox WHERE status IN ('pending', 'relaying') "
                     "AND (run_at IS NULL OR run_at <= now() AT TIME ZONE 'utc')")[0][0] == 0, 120, procs)

        acked: dict[int, float] = {}
        publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"alarm-bench-{uuid.uuid4().hex[:6]}")
        publisher.on_publish = lambda _c, _u, mid, _rc, _p: acked.setdefault(mid, time.time())
        publisher.connect(host, port)
        publisher.loop_start()

        def publish(community_id: int, code: str, kind: str, body: dict):
            return publisher.publish(f"{PREFIX}/{community_id}/{code}/{kind}", json.dumps(body), qos=1)

        # the consumer is ready when a state report reaches the database (it drops what came before it
        # subscribed: a new persistent session has no queue yet)
        def consumer_ready() -> bool:
            publish(*warm, "state", {"online": True})
            time.sleep(0.4)
            return sql(args.db, "SELECT online FROM device WHERE code = %s", warm[1])[0][0]

        wait_for("the MQTT consumer", consumer_ready, 90, procs)
        # warm-up: one alarm through the whole path (token fetch, first job), not measured
        publish(*warm, "event", {"id": "warmup", "type": "smoke", "value": 1, "at": datetime.now(UTC).isoformat()})
        wait_for("the warm-up alert", lambda: (rows_by_code(args.db)[warm[1]]["alarm_id"] or 0) in delivered(fake),
                 60, procs)
        time.sleep(1)

        sent: dict[str, dict] = {}
        start = time.monotonic()
        run_id = uuid.uuid4().hex[:8]
        for i, (community_id, code) in enumerate(devices):
            delay = start + i * args.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t0 = time.time()
            info = publish(community_id, code, "event", {"id": f"{run_id}-{i}", "type": "smoke", "value": 1,
                                                          "at": datetime.fromtimestamp(t0, UTC).isoformat()})
            sent[code] = {"t0": t0, "mid": info.mid, "community": community_id}
        last = time.monotonic()
        print(f"published {len(devices)} events in {last - start:.1f}s", flush=True)

        expect = len(devices)
        seen, changed = -1, time.monotonic()
        while time.monotonic() - last < args.timeout:
            rows, cards = rows_by_code(args.db), delivered(fake)
            got = sum(1 for _c, code in devices if rows[code]["alarm_id"] in cards)
            if got != seen:
                seen, changed = got, time.monotonic()
            grouped = sum(1 for _c, code in devices if rows[code]["group_key"] and rows[code]["job_status"] is None)
            if got + grouped >= expect:
                break
            if time.monotonic() - changed > 20:
                break
            time.sleep(0.2)
        report(args, devices, sent, acked, rows_by_code(args.db), delivered(fake), procs)
    finally:
        if publisher is not None:
            publisher.loop_stop()
            publisher.disconnect()
        for p in reversed(procs):
            p.stop()
        forget_mqtt_session(host, port, client_id)
        fake_server.shutdown()
        cleanup(args)
        kept = [p for p in procs if "Traceback" in p.log.read_text(errors="replace")]
        for p in kept:
            print(f"(errors in the {p.name} log: {p.log})")
        if not kept:
            shutil.rmtree(scratch, ignore_errors=True)


def report(args, devices, sent, acked, rows, cards, procs) -> None:
    lat, stage_store, stage_relay, stage_ack = [], [], [], []
    lost: dict[str, list[str]] = {}
    grouped = 0
    for _community_id, code in devices:
        s, r = sent[code], rows.get(code, {})
        t0 = s["t0"]
        if s["mid"] in acked:
            stage_ack.append(acked[s["mid"]] - t0)
        if r.get("received_at") is None:
            lost.setdefault("event not stored", []).append(code)
            continue
        if r.get("alarm_id") is None:
            lost.setdefault("no alarm raised", []).append(code)
            continue
        if r["group_key"] and r["job_status"] is None:
            grouped += 1
            continue
        card = cards.get(r["alarm_id"])
        if card is None:
            lost.setdefault(f"no card (page job {r['job_status']})", []).append(code)
            continue
        lat.append(card[0] - t0)
        stage_store.append(epoch(r["received_at"]) - t0)
        if r["enqueued_at"] is not None:
            stage_relay.append(epoch(r["enqueued_at"]) - t0)
    n_lost = sum(len(v) for v in lost.values())
    print()
    print(f"Event → staff alert (WeChat Work card accepted by the fake API), {len(devices)} smoke events, one every "
          f"{args.interval:g}s, {args.per_community} a community")
    print(f"{'events':>7} {'alerts':>7} {'grouped':>8} {'lost':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    if lat:
        print(f"{len(devices):>7} {len(lat):>7} {grouped:>8} {n_lost:>5} {statistics.median(lat):>7.3f} "
              f"{pct(lat, 0.95):>7.3f} {max(lat):>7.3f}")
    else:
        print(f"{len(devices):>7} {0:>7} {grouped:>8} {n_lost:>5} {'-':>7} {'-':>7} {'-':>7}")
    print("stages, seconds after publish (p50 / p95 / max):")
    for name, values in (("broker PUBACK to the publisher", stage_ack),
                         ("consumer batch read the event (device_event.received_at)", stage_store),
                         ("page job handed to RQ (outbox.enqueued_at)", stage_relay),
                         ("card at the WeChat Work API (= latency)", lat)):
        if values:
            print(f"  {name:<58} {statistics.median(values):>7.3f} / {pct(values, 0.95):>7.3f} / {max(values):>7.3f}")
    for why, codes in lost.items():
        print(f"  lost, {why}: {len(codes)} ({', '.join(codes[:5])}{' …' if len(codes) > 5 else ''})")
    summaries = sum(1 for _c, code in devices if rows.get(code, {}).get("alarm_id") in cards
                    and cards[rows[code]["alarm_id"]][2].startswith("告警泛滥"))
    if grouped or summaries:
        print(f"  flood (> 10 new alarms in 10 min in a community): {summaries} alert(s) above were the flood's "
              f"summary card, {grouped} alarm(s) grouped into it without a card of their own (by design)")
    recipients = Counter(cards[r["alarm_id"]][1] for r in rows.values() if r.get("alarm_id") in cards)
    print("cards sent to (touser: cards, warm-up included): "
          + "; ".join(f"{who or '(nobody)'}: {n}" for who, n in recipients.most_common()))
    print("setup: 1 consumer process (flask devices listen, batch 500), 1 RQ worker process (python -m workers "
          "worker: SimpleWorker, queues high,default,low, relay loop 5 s), PostgreSQL "
          f"{args.db.rsplit('/', 1)[-1]}, Redis {args.redis}, Mosquitto {BROKER[0]}:{BROKER[1]} (anonymous, QoS 1, "
          f"topics {PREFIX}/<community>/<device>/event), fake WeChat API (werkzeug, threaded) in the bench process")


def cleanup(args) -> None:
    try:
        flush_redis(args.redis)
    except Exception as exc:  # noqa: BLE001 - cleanup goes on
        print(f"(could not flush {args.redis}: {exc})")
    try:
        if args.own_db:
            drop_database(args.db)
        else:
            reset_schema(args.db)
    except Exception as exc:  # noqa: BLE001
        print(f"(could not drop {args.db}: {exc})")


def main() -> None:
    args = parse_args()
    args.own_db = args.db is None
    args.db = (args.db or DEFAULT_DB).replace("postgresql+psycopg://", "postgresql://")
    if args.own_db:
        create_database(args.db)
    else:
        reset_schema(args.db)
    flush_redis(args.redis)
    run(args)


if __name__ == "__main__":
    main()
