"""Campaign fan-out benchmark: 100,000 residents, PostgreSQL + Redis, 2 RQ workers, fake WeChat API.

    .venv/bin/python bench/campaign_bench.py [--residents 100000] [--workers 2] [--single-seconds 60]

Reports audience resolution time, deliveries per second end to end (schedule -> campaign sent),
peak memory (VmHWM) per worker, and, in the same run, the same campaign sent one job per message
(run for --single-seconds, then cancelled, since it is the slow baseline), with CPU seconds per
delivery of each process and the load average. The fake WeChat API runs in its own process on
the lean asyncio keep-alive server, counting calls instead of recording each. The clock the
quiet-hours rule reads is pinned to 10:00 Asia/Shanghai, so the bench runs at any hour. It drops
and recreates the bench database's schema: point it only at a bench database (default lin_k,
Redis db 10).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/lin_k"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
AUDIENCE = "age>=18 AND NOT tag:moved_out"
REALISTIC = "building:30 AND (age>=60 OR health:red) AND NOT tag:moved_out"


def build_app(db_url: str, redis_url: str, fake_url: str, concurrency: int | None = None,
              batch: int | None = None):
    """The app on the bench database and Redis, pointed at the fake WeChat API."""
    from app import create_app
    from config import Config

    config = Config()
    config.LINLI_ENV = "development"  # loopback bench with the development secrets
    config.SQLALCHEMY_DATABASE_URI = db_url
    config.REDIS_URL = redis_url
    config.WECHAT_API_BASE_URL = fake_url
    config.CHECK_MIGRATIONS = False
    config.EMBEDDED_WORKER = False
    config.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 4}
    if concurrency:
        config.CAMPAIGN_CONCURRENCY = concurrency
    if batch:
        config.CAMPAIGN_BATCH_SIZE = batch
    return create_app(config)


# ----- the fake WeChat API process ---------------------------------------------------------
def serve_fake(port: int) -> None:
    """Serve the fake on the lean keep-alive server, counting calls (100k recorded calls would only
    measure the fake's memory); SIGTERM prints what it answered."""
    from fakewechat import FakeWeChat, LeanServer

    server = LeanServer(FakeWeChat(record=False), port=port)

    def stop(*_args) -> None:
        sends = server.fake.count("/send")
        print(f"fake WeChat answered {sends:,} successful sends, "
              f"{server.fake.count('', errcode=None) - sends:,} other requests", flush=True)
        server.loop.call_soon_threadsafe(server.loop.stop)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


# ----- worker processes --------------------------------------------------------------------
def run_worker_process(db_url: str, redis_url: str, fake_url: str, concurrency: int | None,
                       batch: int | None) -> None:
    """One RQ worker (scheduler on, outbox relay thread), as `flask worker` runs it."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    # rq's worker sets its logger to INFO when it starts (four lines per job); a filter survives that
    logging.getLogger("rq.worker").addFilter(lambda record: record.levelno >= logging.WARNING)
    from workers.runner import run_worker

    app = build_app(db_url, redis_url, fake_url, concurrency, batch)
    run_worker(app)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ----- seeding -----------------------------------------------------------------------------
def reset_and_seed(app, residents: int) -> int:
    """Fresh schema, then residents with a mix of channels; returns the community id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from app.chat.models import Conversation
    from app.community.models import Community, Resident, Tag, resident_tag
    from app.core.clock import utcnow
    from app.core.db import db
    from app.notify.models import SubscribeGrant

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        s = db.session
        community = Community(name="基准小区")
        s.add(community)
        s.flush()
        cid = community.id
        tags = {name: Tag(community_id=cid, name=name, kind="system") for name in
                [f"building:{b}" for b in range(1, 51)] + ["moved_out", "health:red"]}
        s.add_all(tags.values())
        s.commit()
        rng = random.Random(8)
        now = utcnow()
        moved = residents // 100
        total = residents + moved
        chunk = 5000
        for start in range(1, total + 1, chunk):
            rows = []
            for i in range(start, min(start + chunk, total + 1)):
                kind = i % 10  # ids start at 1 on the fresh schema, so i is the resident id
                rows.append({
                    "community_id": cid, "name": f"住户{i}", "phone": f"1{i:010d}", "role": "owner",
                    "birth_year": rng.randint(1940, 2000), "status": "active",
                    "oa_openid": f"oa_b{i}", "wxa_openid": f"wxa_b{i}" if kind in (2, 3, 4) else None,
                    "created_at": now, "updated_at": now,
                })
            s.execute(insert(Resident), rows)
            s.commit()
        ids = [rid for (rid,) in s.execute(text("SELECT id FROM resident ORDER BY id"))]
        links, convs, grants = [], [], []
        for n, rid in enumerate(ids):
            links.append({"resident_id": rid, "tag_id": tags[f"building:{rid % 50 + 1}"].id})
            if n >= residents:
                links.append({"resident_id": rid, "tag_id": tags["moved_out"].id})
            if rid % 10 in (0, 1):  # 20 %: wrote to the official account recently -> customer-service message
                convs.append({"channel": "oa", "openid": f"oa_b{rid}", "resident_id": rid, "state": "bot",
                              "dialog": {}, "last_inbound_at": now - timedelta(hours=1), "updated_at": now})
            if rid % 10 in (2, 3, 4):  # 30 %: granted a subscribe message in the mini-program
                grants.append({"resident_id": rid, "template_id": "wxa-tmpl-notice", "remaining": 1,
                               "updated_at": now})
        for table, rows in ((resident_tag, links), (Conversation, convs), (SubscribeGrant, grants)):
            for start in range(0, len(rows), 10000):
                s.execute(insert(table), rows[start:start + 10000])
            s.commit()
        s.execute(text("ANALYZE"))
        s.commit()
        return cid


# ----- measurements ------------------------------------------------------------------------
def measure_audience(app, cid: int) -> dict:
    """Time the count, the realistic preview, and reading every page by keyset."""
    from app.campaigns import audience
    from app.core.db import db

    with app.app_context():
        s = db.session
        t = time.perf_counter()
        n = audience.count(s, cid, AUDIENCE)
        count_s = time.perf_counter() - t
        t = time.perf_counter()
        preview = audience.preview(s, cid, REALISTIC)
        preview_s = time.perf_counter() - t
        t = time.perf_counter()
        after, seen, pages = 0, 0, 0
        while page := audience.page_ids(s, cid, AUDIENCE, after_id=after, limit=1000):
            after, seen, pages = page[-1], seen + len(page), pages + 1
        paging_s = time.perf_counter() - t
        return {"count": n, "count_s": count_s, "preview_count": preview["count"], "preview_s": preview_s,
                "paged": seen, "pages": pages, "paging_s": paging_s}


def run_campaign(app, cid: int, *, per_message: bool, limit_s: float | None) -> dict:
    """Create and schedule the campaign, wait until sent (or limit_s), return timings and counts."""
    from sqlalchemy import select, update

    from app.campaigns import campaigns as svc
    from app.campaigns.models import Campaign
    from app.core.db import db
    from app.core.outbox import enqueue

    with app.app_context():
        s = db.session
        campaign = svc.create_draft(s, cid, title="社区健身节", category="activities",
                                    body="{name}您好，本周六上午社区健身节，欢迎{building}住户参加。",
                                    audience_expr=AUDIENCE)
        s.commit()
        t0 = time.perf_counter()
        if per_message:  # the baseline: the same fan-out, one job per resident
            s.execute(update(Campaign).where(Campaign.id == campaign.id).values(status="scheduled"))
            enqueue(s, svc.START_JOB, campaign.id, per_message=True)
        else:
            svc.schedule(s, cid, campaign.id)
        s.commit()
        cancelled = False
        while True:
            time.sleep(0.5)
            s.expire_all()
            status = s.scalar(select(Campaign.status).where(Campaign.id == campaign.id))
            elapsed = time.perf_counter() - t0
            if status == "sent":
                break
            if limit_s and elapsed > limit_s:
                progress = svc.progress(s, s.get(Campaign, campaign.id))
                done_at_limit, created_at_limit = progress["done"], progress["total"]
                svc.cancel(s, cid, campaign.id)
                s.commit()
                cancelled = True
                break
        progress = svc.progress(s, s.get(Campaign, campaign.id))
        done = done_at_limit if cancelled else progress["done"]
        created = created_at_limit if cancelled else progress["total"]
        return {"elapsed_s": elapsed, "done": done, "rate": done / elapsed, "progress": progress,
                "cancelled": cancelled, "created": created}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--single-seconds", type=float, default=60.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--concurrency", type=int, default=None, help="sends in flight per worker")
    parser.add_argument("--batch", type=int, default=None, help="residents per batch job")
    parser.add_argument("--role", choices=["main", "fake", "worker"], default="main", help=argparse.SUPPRESS)
    args = parser.parse_args()
    fake_url = f"http://127.0.0.1:{args.port}"
    if args.role == "fake":
        return serve_fake(args.port)
    if args.role == "worker":
        return run_worker_process(args.database_url, args.redis_url, fake_url, args.concurrency, args.batch)

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    me = [sys.executable, str(Path(__file__).resolve()), "--port", str(args.port),
          "--database-url", args.database_url, "--redis-url", args.redis_url]
    tuning = [flag for name, value in (("--concurrency", args.concurrency), ("--batch", args.batch)) if value
              for flag in (name, str(value))]
    fake = subprocess.Popen(me + ["--role", "fake"])
    procs: list[subprocess.Popen] = []
    try:
        app = build_app(args.database_url, args.redis_url, fake_url)
        t = time.perf_counter()
        cid = reset_and_seed(app, args.residents)
        print(f"seeded {args.residents:,} residents (+1% moved out) in {time.perf_counter() - t:.1f}s", flush=True)
        aud = measure_audience(app, cid)
        print(f"audience `{AUDIENCE}`: count {aud['count']:,} in {aud['count_s'] * 1000:.0f} ms; "
              f"all {aud['pages']} keyset pages ({aud['paged']:,} ids) in {aud['paging_s']:.2f}s", flush=True)
        print(f"audience `{REALISTIC}`: preview (count {aud['preview_count']:,} + sample) in "
              f"{aud['preview_s'] * 1000:.0f} ms", flush=True)
        procs = [subprocess.Popen(me + tuning + ["--role", "worker"]) for _ in range(args.workers)]
        time.sleep(3)  # workers import and connect
        cpu0 = {p.pid: cpu_seconds(p.pid) for p in procs + [fake]}
        load0 = os.getloadavg()
        batch = run_campaign(app, cid, per_message=False, limit_s=None)
        cpu = {pid: cpu_seconds(pid) - c for pid, c in cpu0.items()}
        load1 = os.getloadavg()
        peaks_batch = [peak_rss_mb(p.pid) for p in procs]
        print(f"batched campaign: {batch['done']:,} deliveries in {batch['elapsed_s']:.1f}s = "
              f"{batch['rate']:,.0f} deliveries/s end to end; by channel {batch['progress']['by_channel']}; "
              f"failed {batch['progress']['failed']}, skipped {batch['progress']['skipped']}", flush=True)
        print(f"CPU seconds during it: fake WeChat {cpu[fake.pid]:.1f}, workers "
              + ", ".join(f"{cpu[p.pid]:.1f}" for p in procs) + f" (machine has {os.cpu_count()} CPUs)", flush=True)
        per = 1000 / max(batch["done"], 1)
        worker_cpu = sum(cpu[p.pid] for p in procs)
        print(f"CPU ms per delivery: workers {worker_cpu * per:.2f}, fake WeChat {cpu[fake.pid] * per:.2f}, "
              f"together {(worker_cpu + cpu[fake.pid]) * per:.2f}; load average (1 min) "
              f"{load0[0]:.1f} before, {load1[0]:.1f} after", flush=True)
        print("peak memory per worker after the batched campaign: "
              + ", ".join(f"{m:.0f} MB" for m in peaks_batch), flush=True)
        cpu0 = {p.pid: cpu_seconds(p.pid) for p in procs}
        single = run_campaign(app, cid, per_message=True, limit_s=args.single_seconds)
        single_cpu = sum(cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0.values(), strict=True))
        note = f" (stopped and cancelled after {args.single_seconds:.0f}s)" if single["cancelled"] else ""
        print(f"one job per message: {single['done']:,} deliveries in {single['elapsed_s']:.1f}s = "
              f"{single['rate']:,.0f} deliveries/s{note}; meanwhile its fan-out created {single['created']:,} "
              f"deliveries and jobs; workers' CPU {single_cpu:.1f}s (fan-out included), "
              f"{single_cpu * 1000 / max(single['done'], 1):.2f} ms per delivery; load average (1 min) "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        peaks = [peak_rss_mb(p.pid) for p in procs]
        print("peak memory per worker over the whole run: " + ", ".join(f"{m:.0f} MB" for m in peaks), flush=True)
        print(f"targets: >= 1,500 deliveries/s -> {'met' if batch['rate'] >= 1500 else 'NOT met'}; "
              f"<= 300 MB per worker -> {'met' if max(peaks) <= 300 else 'NOT met'}", flush=True)
    finally:
        for p in procs + [fake]:
            p.send_signal(signal.SIGTERM)
        for p in procs + [fake]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def daytime() -> None:
    """Quiet hours (22:00-07:00) would hold the batches: every bench process runs in today's daytime,
    moving the one clock with time-machine (as the tests do) when the bench starts at night."""
    import time_machine

    from app.core.clock import SHANGHAI, local_now
    from app.notify.notify import in_quiet_hours

    here = local_now()
    if in_quiet_hours(here):
        time_machine.travel(datetime.combine(here.date(), dtime(10, 0), SHANGHAI), tick=True).start()


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    daytime()
    main()
