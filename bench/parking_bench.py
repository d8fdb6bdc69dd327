"""Parking benchmark: availability queries through chat (/wechat, signed XML) and the API (/api/v1/parking/zones)
while the camera system posts 100 signed occupancy updates a second, against gunicorn on PostgreSQL + Redis.

    .venv/bin/python bench/parking_bench.py [--seconds 30] [--rate 100] [--query-threads 4] [--workers 2]

Reports, for the ingestion and for each kind of query: requests, throughput, p50 and p99 latency, errors.
It drops and recreates the bench database's schema: point it only at a bench database (default lin_d,
Redis db 3).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/lin_d"
DEFAULT_REDIS = "redis://127.0.0.1:6379/3"
TOKEN = "bench-token"
BUILDINGS = 20


def prepare(db_url: str, redis_url: str) -> dict:
    """A fresh schema with 20 building zones, one camera device and one resident bound on both channels."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.community.models import Building, Community, Household, Resident, Unit
    from app.core.db import db
    from app.core.redis_conn import get_redis
    from app.parking import ingest as parking_ingest
    from app.parking import parking
    from config import Config

    config = Config()
    config.LINLI_ENV = "development"  # loopback bench with the development secrets
    config.SQLALCHEMY_DATABASE_URI, config.REDIS_URL, config.CHECK_MIGRATIONS = db_url, redis_url, False
    config.SECRET_KEY = "bench-secret"  # the server's, so the API token issued here is valid there
    app = create_app(config)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        get_redis(app).flushdb()
        community = Community(name="停车压测小区")
        db.session.add(community)
        db.session.flush()
        zones = []
        for number in range(1, BUILDINGS + 1):
            building = Building(community_id=community.id, number=str(number), position=number)
            db.session.add(building)
            db.session.flush()
            zones.append(parking.create_zone(db.session, community_id=community.id, code=f"B{number}",
                                             name=f"{number}幢", fixed_capacity=40, temporary_capacity=10,
                                             building_id=building.id))
            if number == 12:
                unit = Unit(building_id=building.id, number="1")
                db.session.add(unit)
                db.session.flush()
                home = Household(unit_id=unit.id, room="101")
                db.session.add(home)
                db.session.flush()
                db.session.add(Resident(community_id=community.id, household_id=home.id, name="压测住户",
                                        phone="13800000000", oa_openid="o_bench", wxa_openid="w_bench"))
        device = parking_ingest.new_device(db.session, community_id=community.id, name="bench",
                                           seal_key=app.config["SECRET_KEY"])
        db.session.commit()
        from miniprogram_api.tokens import issue_token

        return {"key_id": device.key_id, "secret": device.issued_secret, "codes": [z.code for z in zones],
                "api_token": issue_token("w_bench")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db_url: str, redis_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "CHECK_MIGRATIONS": "0",
           "WECHAT_TOKEN": TOKEN, "SECRET_KEY": "bench-secret", "WECHAT_API_BASE_URL": "http://127.0.0.1:9"}
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", "8",
                             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def server_cpu(master: int) -> float:
    """CPU seconds used so far by the gunicorn workers (children of the master)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return 0.0
    total = 0.0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Recorder:
    """Latencies and errors of one kind of request."""

    def __init__(self, name: str) -> None:
        self.name, self.latencies, self.errors, self.lock = name, [], 0, threading.Lock()

    def add(self, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.errors += 0 if ok else 1

    def line(self, duration: float) -> str:
        lat = sorted(self.latencies)
        if not lat:
            return f"{self.name:<22} no requests"
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        p50 = statistics.median(lat)
        return (f"{self.name:<22} {len(lat):>7,} req  {len(lat) / duration:>8.1f}/s  p50 {p50 * 1000:6.1f} ms"
                f"  p99 {p99 * 1000:6.1f} ms  errors {self.errors}")


def ingest_loop(base: str, setup: dict, rate: float, stop: float, rec: Recorder) -> None:
    """Post `rate` signed updates a second, paced, across every zone."""
    from app.parking.ingest import sign

    session, rng, sent = requests.Session(), random.Random(7), 0
    start = time.perf_counter()
    while time.perf_counter() < stop:
        due = start + sent / rate
        if due > time.perf_counter():
            time.sleep(due - time.perf_counter())
        body = json.dumps({"event_id": secrets.token_hex(8), "zone": rng.choice(setup["codes"]),
                           "at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                           "fixed_occupied": rng.randint(0, 40), "temporary_occupied": rng.randint(0, 10)}).encode()
        ts = str(int(time.time()))
        headers = {"X-Parking-Device": setup["key_id"], "X-Parking-Timestamp": ts,
                   "X-Parking-Signature": sign(setup["secret"], ts, body), "Content-Type": "application/json"}
        began = time.perf_counter()
        try:
            response = session.post(f"{base}/api/v1/parking/events", data=body, headers=headers, timeout=10)
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        rec.add(time.perf_counter() - began, ok)
        sent += 1


def wechat_xml(content: str, msg_id: int) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o_bench]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


def query_loop(base: str, setup: dict, stop: float, chat: Recorder, api: Recorder, seed: int) -> None:
    """Alternate a chat question (named building or none) and the API's zone list."""
    session, rng, n = requests.Session(), random.Random(seed), 0
    headers = {"Authorization": f"Bearer {setup['api_token']}"}
    while time.perf_counter() < stop:
        n += 1
        began = time.perf_counter()
        if n % 2:
            ts, nonce = str(int(time.time())), secrets.token_hex(6)
            sig = hashlib.sha1("".join(sorted([TOKEN, ts, nonce])).encode()).hexdigest()
            text = rng.choice(["还有车位吗", f"{rng.randint(1, BUILDINGS)}幢还有车位吗"])
            try:
                response = session.post(f"{base}/wechat", params={"timestamp": ts, "nonce": nonce, "signature": sig},
                                        data=wechat_xml(text, seed * 10_000_000 + n), timeout=10)
                ok = response.status_code == 200 and "车位" in response.text
            except requests.RequestException:
                ok = False
            chat.add(time.perf_counter() - began, ok)
        else:
            try:
                response = session.get(f"{base}/api/v1/parking/zones", headers=headers, timeout=10)
                ok = response.status_code == 200 and len(response.json()["zones"]) == BUILDINGS
            except requests.RequestException:
                ok = False
            api.add(time.perf_counter() - began, ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--query-threads", type=int, default=4)
    parser.add_argument("--ingest-threads", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    setup = prepare(args.db, args.redis)
    port = free_port()
    server = start_server(args.db, args.redis, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        ingest, chat = Recorder("ingest (signed POST)"), Recorder("chat 车位 (/wechat)")
        api = Recorder("API /parking/zones")
        stop = time.perf_counter() + args.seconds
        threads = [threading.Thread(target=ingest_loop, args=(base, setup, args.rate / args.ingest_threads, stop,
                                                              ingest)) for _ in range(args.ingest_threads)]
        threads += [threading.Thread(target=query_loop, args=(base, setup, stop, chat, api, i + 1))
                    for i in range(args.query_threads)]
        began, cpu_before = time.perf_counter(), server_cpu(server.pid)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        duration, cpu = time.perf_counter() - began, server_cpu(server.pid) - cpu_before
        load = os.getloadavg()[0]
        print(f"{args.seconds:.0f} s, gunicorn {args.workers} workers x 8 threads, {os.cpu_count()} CPUs, "
              f"target {args.rate} updates/s from {args.ingest_threads} threads, {args.query_threads} query threads")
        for rec in (ingest, chat, api):
            print(rec.line(duration))
        total = sum(len(r.latencies) for r in (ingest, chat, api))
        print(f"gunicorn workers used {cpu:.1f} CPU s ({cpu / max(total, 1) * 1000:.1f} ms a request on average); "
              f"load average at the end {load:.1f} (other processes share these {os.cpu_count()} CPUs)")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
