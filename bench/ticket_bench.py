"""Ticket creation through the chat endpoint: residents report (我家水管漏水) and confirm (确认) with signed
XML posted to /wechat over loopback HTTP, on PostgreSQL + Redis; prints tickets/s and request p50/p99.

BENCH_DATABASE_URL (default the lin_i database) is dropped and migrated; BENCH_REDIS_URL default db 8.
BENCH_RESIDENTS (200) residents, BENCH_CLIENTS (8) concurrent clients, each ticket = 2 requests.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.community.models import Building, Community, Household, Resident, Unit  # noqa: E402
from app.core.db import db  # noqa: E402
from app.tickets.models import Ticket  # noqa: E402
from config import TestConfig  # noqa: E402

DB = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/lin_i")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "200"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
_ids = itertools.count(int(time.time()) * 1000)


def build_app():
    config = TestConfig(DB, REDIS)
    config.TESTING = False
    app = create_app(config)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        community = Community(name="压测小区")
        db.session.add(community)
        db.session.flush()
        for b in range(1, 11):
            building = Building(community_id=community.id, number=str(b))
            db.session.add(building)
            db.session.flush()
            unit = Unit(building_id=building.id, number="1")
            db.session.add(unit)
            db.session.flush()
            for r in range(RESIDENTS // 10):
                household = Household(unit_id=unit.id, room=f"{r + 1:02d}01")
                db.session.add(household)
                db.session.flush()
                db.session.add(Resident(community_id=community.id, household_id=household.id, name="压测住户",
                                        phone=f"139{b:02d}{r:06d}", oa_openid=f"o_bench_{b}_{r}"))
        db.session.commit()
    return app


def post(base: str, token: str, openid: str, content: str) -> float:
    ts, nonce = str(int(time.time())), f"n{next(_ids)}"
    sig = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()
    body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]>"
            f"</Content><MsgId>{next(_ids)}</MsgId></xml>").encode()
    started = time.perf_counter()
    request = urllib.request.Request(f"{base}/wechat?signature={sig}&timestamp={ts}&nonce={nonce}", data=body,
                                     headers={"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=30) as response:
        reply = response.read().decode()
    elapsed = time.perf_counter() - started
    if content == "确认" and "单号" not in reply:
        raise RuntimeError(f"no ticket number in the reply: {reply[:200]}")
    return elapsed


def main() -> None:
    app = build_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base, token = f"http://127.0.0.1:{server.server_port}", app.config["WECHAT_TOKEN"]
    openids = [f"o_bench_{b}_{r}" for b in range(1, 11) for r in range(RESIDENTS // 10)]
    post(base, token, openids[0], "你好")  # warm up: jieba's dictionary, connections

    def one_ticket(openid: str) -> tuple[float, float]:
        return post(base, token, openid, "我家水管漏水"), post(base, token, openid, "确认")

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        timings = list(pool.map(one_ticket, openids))
    wall = time.perf_counter() - started
    server.shutdown()
    with app.app_context():
        created = db.session.scalar(select(func.count()).select_from(Ticket))
    latencies = sorted(t * 1000 for pair in timings for t in pair)
    per_ticket = sorted(sum(pair) * 1000 for pair in timings)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

    print(f"backend: PostgreSQL + Redis, werkzeug threaded server, {CLIENTS} concurrent clients")
    print(f"tickets created: {created} of {len(openids)} in {wall:.2f} s -> {created / wall:.1f} tickets/s "
          f"({2 * len(openids) / wall:.1f} requests/s)")
    print(f"request latency ms: p50 {statistics.median(latencies):.1f}  p90 {pct(latencies, 90):.1f}  "
          f"p99 {pct(latencies, 99):.1f}  max {latencies[-1]:.1f}")
    print(f"per ticket (report + confirm) ms: p50 {statistics.median(per_ticket):.1f}  p99 {pct(per_ticket, 99):.1f}")


if __name__ == "__main__":
    main()
