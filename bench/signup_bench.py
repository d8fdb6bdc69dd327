"""Activity sign-up and coupon benchmark, through the Flask app on a real threaded HTTP server.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<yours> .venv/bin/python bench/signup_bench.py \
        [--gunicorn conf | --gunicorn N | --gunicorn NxT]

By default the app is served by werkzeug's threaded server in this process. --gunicorn serves it with
gunicorn on the same database, always from gunicorn.conf.py (preload, the parser warmed before the fork):
`conf` exactly as production (its gthread workers, WEB_CONCURRENCY x WEB_THREADS); `N` N sync workers;
`NxT` N gthread workers of T threads. The first line printed names the model, and the sign-up line
repeats it. Issue 20's figure (sign-up p95 <= 300 ms at 50 concurrent requests) is quoted for
`--gunicorn conf`: the model that serves residents, and the one every earlier figure was taken with
(until 2026-12-04 `--gunicorn N` said "sync workers", but gunicorn read ./gunicorn.conf.py by itself,
whose threads = 2 made them gthread workers: the figures quoted for `--gunicorn 6` were 6 x 2 gthread).

Prints: sign-up latency (p50/p95/p99) at 50 concurrent clients; a 200-way race for 20 seats (seats held
beyond capacity, counted from the sign-ups); how long after a cancellation the first waiting resident is
promoted (promotion happens inside the cancel's own transaction, so it is the cancel request's time); and
coupons raced by 30 parallel redemptions each (how many were redeemed more than once).
It DROPS and recreates the schema of DATABASE_URL: point it only at a database of your own. Redis is the
embedded stand-in; the fake WeChat API answers on loopback.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENTS = 50
ACTIVITIES = 5
RESIDENTS = 250
RACE = 200
RACE_SEATS = 20
COUPONS = 20
REDEEMERS = 30


def serve(app_or_wsgi) -> tuple[str, object]:
    """Serve a WSGI app on a loopback port in a thread; returns its base URL and the server."""
    server = make_server("127.0.0.1", 0, app_or_wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def setup(url: str):
    """The app on the bench database (schema rebuilt), a community, residents, tokens and activities."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.activities import activities
    from app.community.models import Building, Community, Household, Resident, Unit
    from app.core.clock import utcnow
    from app.core.db import db
    from config import TestConfig
    from fakewechat import FakeWeChat
    from miniprogram_api.tokens import issue_token

    fake_url, _fake = serve(FakeWeChat())
    config = TestConfig(database_url=url)
    config.WECHAT_API_BASE_URL = fake_url
    config.SQLALCHEMY_ENGINE_OPTIONS = {**config.SQLALCHEMY_ENGINE_OPTIONS, "pool_size": 20, "max_overflow": 40}
    app = create_app(config)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        community = Community(name="压测小区")
        db.session.add(community)
        db.session.flush()
        building = Building(community_id=community.id, number="1")
        db.session.add(building)
        db.session.flush()
        unit = Unit(building_id=building.id, number="1")
        db.session.add(unit)
        db.session.flush()
        tokens = []
        for i in range(max(RESIDENTS, RACE)):
            household = Household(unit_id=unit.id, room=str(1000 + i))
            db.session.add(household)
            db.session.flush()
            db.session.add(Resident(community_id=community.id, household_id=household.id, name=f"住户{i}",
                                    phone=f"139{i:08d}", wxa_openid=f"wxa_bench{i}"))
            tokens.append({"Authorization": f"Bearer {issue_token(f'wxa_bench{i}')}"})
        start = utcnow() + timedelta(days=2)
        ids = [activities.create_activity(db.session, community.id, title=f"压测活动{i}", starts_at=start,
                                          capacity=60).id for i in range(ACTIVITIES)]
        race = activities.create_activity(db.session, community.id, title="抢名额", starts_at=start,
                                          capacity=RACE_SEATS).id
        db.session.commit()
        cid = community.id
    return app, tokens, ids, race, cid


def run_parallel(jobs: list, workers: int) -> list:
    """Run callables on `workers` threads; their results in any order."""
    out, lock, index = [], threading.Lock(), iter(jobs)

    def worker() -> None:
        while True:
            with lock:
                job = next(index, None)
            if job is None:
                return
            result = job()
            with lock:
                out.append(result)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def timed_post(base: str, path: str, headers: dict | None = None, data: dict | None = None):
    """POST and return (status, seconds, json or text)."""
    started = time.perf_counter()
    response = requests.post(base + path, headers=headers, data=data, timeout=30)
    took = time.perf_counter() - started
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None
    return response.status_code, took, body


def gunicorn_model(spec: str) -> tuple[list[str], str]:
    """gunicorn's arguments for `conf`, `N` (sync) or `NxT` (gthread), and the model in words."""
    import runpy

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # WEB_CONCURRENCY / WEB_THREADS as production reads them
    if spec == "conf":
        args, workers, threads, kind = [], conf["workers"], conf["threads"], conf["worker_class"]
        source = "gunicorn.conf.py, as production"
    elif spec.isdigit():
        args, workers, threads, kind = ["-k", "sync", "--threads", "1", "-w", spec], int(spec), 1, "sync"
        source = "gunicorn.conf.py but sync workers"
    else:
        workers, threads = (int(x) for x in spec.split("x"))
        args, kind = ["-k", "gthread", "-w", str(workers), "--threads", str(threads)], "gthread"
        source = "gunicorn.conf.py but this size"
    shape = f"{workers} workers x {threads} threads" if kind == "gthread" else f"{workers} workers"
    return args, f"gunicorn {kind}, {shape} ({source})"


def start_gunicorn(url: str, fake_url: str, args: list[str]) -> str:
    """gunicorn serving wsgi:app on the bench database (stopped when this process exits)."""
    import atexit
    import socket
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "LINLI_ENV": "development", "DATABASE_URL": url, "SECRET_KEY": "test-secret",
           "WECHAT_API_BASE_URL": fake_url, "WXA_APP_ID": "wxa_test_app", "WXA_APP_SECRET": "test-wxa-secret"}
    env.pop("REDIS_URL", None)
    # --no-control-socket: gunicorn 27 would otherwise take ~/.gunicorn/gunicorn.ctl from any other gunicorn
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), *args,
                             "--no-control-socket", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                             "wsgi:app"], cwd=ROOT, env=env)
    atexit.register(proc.terminate)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return base
        except requests.RequestException:
            time.sleep(0.1)
    sys.exit("gunicorn did not start")


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a PostgreSQL database of your own (its schema is dropped)")
    app, tokens, ids, race, cid = setup(url)
    base, _server = serve(app)
    model = "werkzeug threaded, in process"
    if "--gunicorn" in sys.argv:
        args, model = gunicorn_model(sys.argv[sys.argv.index("--gunicorn") + 1])
        base = start_gunicorn(url, app.config["WECHAT_API_BASE_URL"], args)
    print(f"server: {model}")
    from sqlalchemy import func, select

    from app.activities.models import Activity, Signup
    from app.core.db import db

    # 1. sign-up latency at 50 concurrent clients
    jobs = [lambda a=a, h=h: timed_post(base, f"/api/v1/activities/{a}/signup", h)
            for a in ids for h in tokens[:RESIDENTS]]
    started = time.perf_counter()
    results = run_parallel(jobs, CLIENTS)
    wall = time.perf_counter() - started
    lat = [took * 1000 for _s, took, _b in results]
    print(f"sign-up: {len(results)} requests, {CLIENTS} concurrent, {len(results) / wall:.0f} req/s; "
          f"p50 {statistics.median(lat):.0f} ms, p95 {percentile(lat, 95):.0f} ms, p99 {percentile(lat, 99):.0f} ms; "
          f"statuses {dict(Counter(s for s, _t, _b in results))}; {model}")

    # 2. the 200-way race for 20 seats
    barrier = threading.Barrier(RACE)

    def racer(h: dict):
        barrier.wait(timeout=60)
        return timed_post(base, f"/api/v1/activities/{race}/signup", h)

    answers = run_parallel([lambda h=h: racer(h) for h in tokens[:RACE]], RACE)
    with app.app_context():
        held = db.session.scalar(select(func.count()).select_from(Signup).where(
            Signup.activity_id == race, Signup.status.in_(("confirmed", "offered"))))
        taken = db.session.get(Activity, race).taken
    outcome = dict(Counter((s, (b or {}).get("status")) for s, _t, b in answers))
    print(f"race: {RACE} at once for {RACE_SEATS} seats: {outcome}; "
          f"seats held {held}, counter {taken}, overbooked {max(held - RACE_SEATS, 0)}")

    # 3. promotion after a cancellation
    # answers are in completion order: find confirmed residents by asking the API
    waits = []
    for h in tokens[:RACE]:
        mine = requests.get(base + "/api/v1/activities/mine", headers=h, timeout=30).json()["signups"]
        if mine and any(s["activity"]["id"] == race and s["status"] == "confirmed" for s in mine):
            status, took, _b = timed_post(base, f"/api/v1/activities/{race}/cancel", h)
            after = time.perf_counter()
            with app.app_context():
                offered = db.session.scalar(select(func.count()).select_from(Signup).where(
                    Signup.activity_id == race, Signup.status == "offered"))
            waits.append((status, took, offered, time.perf_counter() - after))
            if len(waits) == 5:
                break
    print("promotion: " + "; ".join(f"cancel {s} in {t * 1000:.0f} ms, offered now {o}" for s, t, o, _x in waits)
          + " (promoted inside the cancel transaction: seen as soon as the cancel returns)")

    # 4. coupons: each code raced by parallel redemptions on the merchant's page
    from app.community.models import Resident
    from app.merchants import coupons, directory

    with app.app_context():
        m = directory.add_merchant(db.session, cid, name="压测水果店", kind="水果店", address="东门", walk_minutes=1,
                                   opens="00:00", closes="00:00", rest_weekday=None)
        coupon = coupons.add_coupon(db.session, m, title="满50减8", value_cents=800, stock=COUPONS, per_resident=1)
        residents = list(db.session.scalars(select(Resident).order_by(Resident.id).limit(COUPONS)))
        codes = [coupons.show_code(db.session, coupons.claim(db.session, r, coupon.id)).code for r in residents]
        token = directory.issue_token(db.session, m)
        db.session.commit()
    twice = 0
    for code in codes:
        got = Counter(s for s, _t, _b in run_parallel(
            [lambda code=code: timed_post(base, f"/shop/redeem/{token}", data={"code": code})] * REDEEMERS, REDEEMERS))
        twice += got.get(200, 0) > 1
    with app.app_context():
        from app.merchants.models import CouponClaim

        redeemed = db.session.scalar(select(func.count()).select_from(CouponClaim).where(
            CouponClaim.status == "redeemed"))
    print(f"coupons: {COUPONS} codes, each raced by {REDEEMERS} parallel redemptions: {redeemed} redeemed, "
          f"{twice} redeemed more than once")


if __name__ == "__main__":
    main()
