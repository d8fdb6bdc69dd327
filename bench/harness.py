"""Shared by the gunicorn benches: settings, the bench community, gunicorn start/stop with CPU
accounting, wrk runs from a file of pre-built requests, and the summary table.

Settings (environment): BENCH_DATABASE_URL (default the linli_bench database; its schema is dropped
and rebuilt), BENCH_REDIS_URL (default Redis db 14; flushed), BENCH_SECONDS (10) per wrk run,
BENCH_ROUNDS (3), BENCH_CONNECTIONS (16), BENCH_RESIDENTS (2000 bound residents),
BENCH_GUNICORN (the worker model, default "-w 6 -k gthread --threads 2", what gunicorn.conf.py picks on 2 cores).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DB = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/linli_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "2000"))
WRK_THREADS = 2
TOKEN, SECRET = "bench-token", "bench-secret"
WORKERS = shlex.split(os.environ.get("BENCH_GUNICORN", "-w 6 -k gthread --threads 2"))  # gunicorn.conf.py's
GUNICORN = [*WORKERS, "--keep-alive", "5", "--preload", "--log-level", "warning"]
MAX_RATE = 1500  # distinct requests prepared per second of a run: more than any stateful app here serves
LUA = Path(__file__).with_name("wrk_requests.lua")


def server_env() -> dict:
    """The environment of every server and of the preparation: the bench database, Redis and secrets."""
    env = {**os.environ, "LINLI_ENV": "development", "DATABASE_URL": DB, "BENCH_FLOOR_DSN": DB,
           "BENCH_PEER_DATABASE_URL": DB, "REDIS_URL": REDIS, "WECHAT_TOKEN": TOKEN, "SECRET_KEY": SECRET,
           "WECHAT_API_BASE_URL": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT), "CHECK_MIGRATIONS": "0",
           # the demo's parking counts are minutes old at seeding: keep them fresh for the whole bench
           "PARKING_STALE_MINUTES": "600"}
    env.pop("WECHAT_AES_KEY", None)
    return env


def require_wrk() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")


# ---------------------------------------------------------------- the bench community

def build_app():
    """linli on the bench database and Redis, in this process (for preparation only)."""
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from config import Config

    config = Config()
    config.LINLI_ENV, config.CHECK_MIGRATIONS, config.EMBEDDED_WORKER = "development", False, False
    config.SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://" + DB.split("://", 1)[1]
    config.REDIS_URL, config.SECRET_KEY, config.WECHAT_TOKEN = REDIS, SECRET, TOKEN
    return create_app(config)


def prepare_community(app, residents: int = RESIDENTS) -> list[dict]:
    """A fresh schema with the demo community (seed-demo) grown to `residents` bound residents in new
    units of its 12 buildings, each with a conversation already (they have talked to the bot before);
    booking capacity raised so bookings keep succeeding. Returns [{oa, wxa, building}] per resident."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text, update

    from app.chat.models import Conversation
    from app.clinic.models import ScheduleTemplate, Slot
    from app.community.demo import seed_demo
    from app.community.models import Building, Household, Resident, Unit
    from app.core.db import db
    from app.core.redis_conn import get_redis

    rng = random.Random(21)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        with contextlib.redirect_stderr(io.StringIO()):  # alembic's log of every migration
            upgrade()
        get_redis(app).flushdb()
        seed_demo(db.session)
        db.session.commit()
        community_id = db.session.scalar(select(Resident.community_id).limit(1))
        bound = db.session.scalars(select(Resident).where(Resident.oa_openid.isnot(None))).all()
        for r in bound:  # the demo's residents join the mini-program too
            r.wxa_openid = r.wxa_openid or f"w_{r.oa_openid}"
        buildings = db.session.scalars(select(Building).where(Building.community_id == community_id)).all()
        need, n, unit_no = residents - len(bound), 0, 4
        while n < need:
            for building in buildings:
                unit = Unit(building_id=building.id, number=str(unit_no))
                db.session.add(unit)
                db.session.flush()
                for floor in range(1, 7):
                    for seat in (1, 2):
                        if n >= need:
                            break
                        home = Household(unit_id=unit.id, room=f"{floor}{seat:02d}")
                        db.session.add(home)
                        db.session.flush()
                        for _ in range(min(rng.choice((1, 2, 2, 3)), need - n)):
                            n += 1
                            db.session.add(Resident(
                                community_id=community_id, household_id=home.id, name=f"住户{n}",
                                phone=f"17{n:09d}", birth_year=rng.randint(1940, 2000),
                                oa_openid=f"o_bench_{n:05d}", wxa_openid=f"w_bench_{n:05d}"))
            unit_no += 1
        db.session.flush()
        rows = db.session.execute(
            select(Resident.id, Resident.oa_openid, Resident.wxa_openid, Building.number)
            .join(Household, Household.id == Resident.household_id).join(Unit).join(Building)
            .where(Resident.oa_openid.isnot(None), Resident.status == "active")).all()
        have = set(db.session.scalars(select(Conversation.openid).where(Conversation.channel == "oa")))
        db.session.add_all(Conversation(channel="oa", openid=oa, resident_id=rid, dialog={})
                           for rid, oa, _w, _b in rows if oa not in have)
        db.session.execute(update(ScheduleTemplate).values(capacity=100_000))
        db.session.execute(update(Slot).values(capacity=100_000))
        db.session.commit()
        return [{"oa": oa, "wxa": wxa, "building": b} for _rid, oa, wxa, b in rows]


def reset_conversations() -> None:
    """Every conversation back to the bot with no open flow, so each run starts from the same place."""
    import psycopg

    with psycopg.connect(DB, autocommit=True) as conn:
        conn.execute("UPDATE conversation SET state = 'bot', dialog = '{}'")


# ---------------------------------------------------------------- requests

@dataclass
class Request:
    method: str
    path: str
    body: str = ""
    headers: dict = field(default_factory=dict)


def wechat_post(openid: str, content: str, msg_id: int, nonce: str, ts: int) -> Request:
    """One signed plain-mode text message to /wechat."""
    sig = hashlib.sha1("".join(sorted([TOKEN, str(ts), nonce])).encode()).hexdigest()
    body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    return Request("POST", f"/wechat?signature={sig}&timestamp={ts}&nonce={nonce}", body,
                   {"Content-Type": "text/xml"})


def write_requests(reqs: list[Request], path: Path) -> None:
    """One request a line for wrk_requests.lua: method, path, headers (name: value, \\x1f between), body;
    fields split by \\t. Bodies and headers must hold no tab or newline."""
    with path.open("w", encoding="utf-8") as out:
        for r in reqs:
            headers = "\x1f".join(f"{k}: {v}" for k, v in r.headers.items())
            out.write(f"{r.method}\t{r.path}\t{headers}\t{r.body}\n")


# ---------------------------------------------------------------- gunicorn and wrk

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn serving app_spec on a free loopback port, with its processes' CPU time."""

    def __init__(self, app_spec: str, env: dict | None = None, gunicorn: list[str] | None = None) -> None:
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [PY, "-m", "gunicorn", *(gunicorn or GUNICORN), "-b", f"127.0.0.1:{self.port}", app_spec],
            cwd=ROOT, env=env or server_env(), stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except Exception as exc:
                if getattr(exc, "code", None):  # any HTTP answer means it is up
                    return
                time.sleep(0.1)
        self.proc.kill()
        raise SystemExit(f"server {app_spec} did not start: {self.log_tail()}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its live workers (from /proc)."""
        tick = os.sysconf("SC_CLK_TCK")
        pids = [str(self.proc.pid)]
        try:
            pids += Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            pass
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's stderr (gunicorn's and the app's log)."""
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """Stop gunicorn; its log is kept only when it holds an error (the path is printed)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if "Traceback" in self.log_tail(10**9):
            print(f"  (errors in the server log: {self.log.name})", flush=True)
        else:
            os.unlink(self.log.name)


WARM_SECONDS = float(os.environ.get("BENCH_WARM_SECONDS", "2"))


def warm(server: Server, requests: list[Request], seconds: float = WARM_SECONDS) -> None:
    """Serve some requests before measuring (not counted): each worker compiles its SQL statements and
    opens its pool on first use, which a resident meets once per worker start, not once per run."""
    if seconds <= 0 or not requests:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warm.txt"
        write_requests(requests, path)
        subprocess.run(["wrk", "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{max(1, round(seconds))}s",
                        "-s", str(LUA), server.base], capture_output=True, text=True,
                       env={**os.environ, "BENCH_REQUESTS": str(path), "BENCH_WRK_THREADS": str(WRK_THREADS)})


def run_wrk(server: Server, requests_file: Path, seconds: int = SECONDS, connections: int = CONNECTIONS) -> dict:
    """wrk over the file's requests in order (each once while the file lasts); returns requests, rps,
    p50/p99 ms, errors, non-2xx, empty replies (body `success`, or an empty body), wrapped (the file ran out)
    and the server's CPU ms per request."""
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_WRK_THREADS": str(WRK_THREADS)}
    cpu = server.cpu_seconds()
    out = subprocess.run(
        ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(LUA),
         server.base], capture_output=True, text=True, env=env)
    cpu = server.cpu_seconds() - cpu
    found = re.search(r"JSON (\{.*\})", out.stdout)
    if out.returncode or not found:
        raise SystemExit(f"wrk failed: {out.stdout[-1500:]} {out.stderr[-1500:]}")
    stats = json.loads(found.group(1))
    stats["rps"] = stats["requests"] / stats["seconds"]
    stats["cpu_ms"] = cpu * 1000 / max(stats["requests"], 1)
    stats["empty_share"] = stats["empty"] / max(stats["responses"], 1)
    return stats


# ---------------------------------------------------------------- the table

def print_table(results: dict[str, list[dict]], title: str) -> None:
    """One line per app: req/s min/median/max over its runs, median p50/p99, CPU per request, errors."""
    print(title)
    print(f"{'app':<28} {'req/s min / median / max':>26} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} "
          f"{'empty':>6} {'errors':>7} {'non-2xx':>8}")
    for name, runs in results.items():
        rps = [r["rps"] for r in runs]
        print(f"{name:<28} {min(rps):>8.0f} / {statistics.median(rps):>6.0f} / {max(rps):>6.0f} "
              f"{statistics.median(r['p50'] for r in runs):>8.1f} {statistics.median(r['p99'] for r in runs):>8.1f} "
              f"{statistics.median(r['cpu_ms'] for r in runs):>11.2f} "
              f"{statistics.median(r['empty_share'] for r in runs):>6.1%} "
              f"{sum(r['errors'] for r in runs):>7} {sum(r['non2xx'] for r in runs):>8}"
              + ("  (request file ran out: some requests repeated)" if any(r["wrapped"] for r in runs) else ""))


def median_rps(runs: list[dict]) -> float:
    return statistics.median(r["rps"] for r in runs)
