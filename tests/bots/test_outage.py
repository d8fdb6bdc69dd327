"""Fault injection: /wechat under gunicorn with an RQ worker, on a PostgreSQL and a Redis of the test's
own. Messages arrive the way WeChat sends them (a retry after 5 s or an error, three tries in all)
while Redis is stopped (losing everything it held) and later PostgreSQL is stopped. Every message
must end up stored exactly once, the ones kept in the journal answered by one customer-service
message each, and a job that Redis lost must run once Redis is back.

Runs in the PostgreSQL + Redis pass (marked postgres); the figures are printed."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from private_servers import PrivatePostgres, PrivateRedis, free_port
from sqlalchemy import Text as sa_text
from sqlalchemy import create_engine, func, select, text
from wechat_post import signature, text_xml

from app.chat.models import Message
from app.community.models import Community
from app.core.clock import utcnow
from app.core.outbox_job import OutboxJob
from config import DEV_SECRETS, normalise_database_url

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
TOKEN = DEV_SECRETS["WECHAT_TOKEN"]
TEXTS = ("你好", "还有空车位吗", "谢谢", "物业电话多少", "我要报修")
RATE = 6  # messages per second
TIMEOUT = 5.0  # WeChat waits 5 s for an answer
TRIES = 3


@dataclass
class Tally:
    sent: int = 0
    tries: int = 0
    not_ok: Counter = field(default_factory=Counter)  # status (or error) of tries that were not 200
    acknowledged: set = field(default_factory=set)
    given_up: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _post_like_wechat(base: str, msg_id: int, openid: str, content: str, tally: Tally) -> None:
    timestamp, nonce = str(int(time.time())), f"n{msg_id}"
    params = {"timestamp": timestamp, "nonce": nonce, "signature": signature(TOKEN, timestamp, nonce)}
    body = text_xml(openid, content, msg_id=msg_id).encode()
    for _ in range(TRIES):
        with tally.lock:
            tally.tries += 1
        try:
            response = requests.post(f"{base}/wechat", params=params, data=body, timeout=TIMEOUT,
                                     headers={"Content-Type": "text/xml"})
            if response.status_code == 200:
                with tally.lock:
                    tally.acknowledged.add(msg_id)
                return
            outcome = str(response.status_code)
        except requests.RequestException as exc:
            outcome = type(exc).__name__
        with tally.lock:
            tally.not_ok[outcome] += 1
        time.sleep(1.0)  # WeChat's retries are a few seconds apart; compressed here
    with tally.lock:
        tally.given_up.add(msg_id)


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_healthy(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not come up:\n{log.read_text()[-3000:]}")


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@pytest.mark.postgres
def test_no_message_is_lost_or_duplicated_across_redis_and_postgresql_outages(fake_wechat, tmp_path, capsys):
    try:
        postgres = PrivatePostgres()
    except RuntimeError as exc:
        pytest.fail(str(exc))  # the PostgreSQL pass needs the server programs; never a silent skip
    redis_server = PrivateRedis()
    processes: list[subprocess.Popen] = []
    try:
        postgres.start()
        redis_server.start()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "LINLI_ENV": "development", "DATABASE_URL": postgres.url, "REDIS_URL": redis_server.url,
               "WECHAT_API_BASE_URL": fake_wechat.base_url, "WECHAT_JOURNAL_DIR": str(tmp_path / "journal"),
               "UPLOAD_DIR": str(tmp_path / "uploads"), "PYTHONPATH": str(ROOT / "tests"), "CHECK_MIGRATIONS": "0"}
        for name in ("TEST_DATABASE_URL", "TEST_REDIS_URL", "WECHAT_AES_KEY"):
            env.pop(name, None)
        migrated = subprocess.run([PY, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
        processes.append(_start([PY, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4",
                                 "wsgi:app"], env, web_log))
        processes.append(_start([PY, "-m", "workers", "worker"], env, worker_log))
        _wait_healthy(base, processes[0], web_log)
        engine = create_engine(normalise_database_url(postgres.url), pool_pre_ping=True)

        # a job due while Redis is down, handed to RQ's scheduler before Redis loses it
        with engine.begin() as conn:
            due = utcnow() + timedelta(seconds=14)  # after Redis has come back, which forgot it
            conn.execute(OutboxJob.__table__.insert().values(
                func="jobs_for_tests.record", args=["survived-redis"], kwargs={}, queue="default", run_at=due,
                status="pending", attempts=0, created_at=utcnow()))

        def handed_over() -> bool:
            with engine.connect() as conn:
                return conn.scalar(select(OutboxJob.status).where(OutboxJob.args.cast(sa_text).like("%survived%"))) \
                    == "enqueued"

        assert _wait_for(handed_over, 15), "the worker's relay did not hand the scheduled job to RQ"
        tally, ids, threads = Tally(), itertools.count(5_000_000_001), []
        stop_sending = threading.Event()

        def send() -> None:
            n = 0
            while not stop_sending.is_set():
                msg_id = next(ids)
                worker = threading.Thread(target=_post_like_wechat, daemon=True,
                                          args=(base, msg_id, f"o_outage_{n % 30}", TEXTS[n % len(TEXTS)], tally))
                worker.start()
                threads.append(worker)
                with tally.lock:
                    tally.sent += 1
                n += 1
                time.sleep(1 / RATE)

        sender = threading.Thread(target=send, daemon=True)
        started = time.monotonic()
        sender.start()
        time.sleep(3)
        redis_server.stop()  # everything in Redis is gone, the scheduled job included
        redis_down_at = time.monotonic()
        time.sleep(6)
        redis_server.start()
        redis_back_at = time.monotonic()
        time.sleep(3)
        postgres.stop()
        pg_down_at = time.monotonic()
        time.sleep(8)
        postgres.start()
        pg_back_at = time.monotonic()
        time.sleep(3)
        stop_sending.set()
        sender.join()
        for worker in threads:
            worker.join(TIMEOUT * TRIES + 5)

        def stored() -> int:
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))

        def journal_empty() -> bool:
            return not list((tmp_path / "journal" / "new").glob("*.json"))

        drained = _wait_for(lambda: journal_empty() and stored() >= len(tally.acknowledged), 30)
        with engine.connect() as conn:
            outbound = conn.execute(text(
                "SELECT delivery, count(*) FROM message WHERE direction = 'out' AND payload::text LIKE '%journaled%'"
                " GROUP BY delivery")).all()
        journaled = sum(count for _, count in outbound)
        _wait_for(lambda: len(fake_wechat.sent_messages("custom")) >= journaled, 20)
        survived = _wait_for(lambda: _runs(engine, "survived-redis") >= 1, 30)
        with engine.connect() as conn:
            keys = conn.scalars(select(Message.wechat_msg_id).where(Message.direction == "in")).all()
            sent_rows = conn.scalar(text("SELECT count(*) FROM message WHERE direction = 'out' "
                                         "AND payload::text LIKE '%journaled%' AND delivery = 'sent'"))
        custom_sends = len(fake_wechat.sent_messages("custom"))
        stored_ids = {int(k) for k in keys}
        figures = {
            "seconds": round(time.monotonic() - started, 1),
            "redis down (s)": round(redis_back_at - redis_down_at, 1),
            "postgresql down (s)": round(pg_back_at - pg_down_at, 1),
            "messages sent": tally.sent, "tries": tally.tries, "tries not answered 200": dict(tally.not_ok),
            "acknowledged": len(tally.acknowledged), "given up by WeChat": len(tally.given_up),
            "stored": len(stored_ids), "stored twice": len(keys) - len(stored_ids),
            "kept in the journal and answered later": journaled, "customer-service messages sent": custom_sends,
            "lost": len(set(range(5_000_000_001, 5_000_000_001 + tally.sent)) - stored_ids),
            "job lost by Redis ran": _runs(engine, "survived-redis"),
        }
        with capsys.disabled():
            print("\nfault injection figures:", figures)
        assert drained, figures
        assert figures["lost"] == 0 and figures["stored twice"] == 0, figures
        assert len(stored_ids) == tally.sent and not tally.given_up, figures
        assert journaled > 0, figures  # the PostgreSQL outage did send messages to the journal
        assert custom_sends == sent_rows == journaled, figures  # one answer each, none twice
        assert survived and figures["job lost by Redis ran"] == 1, figures
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_server.stop()
        postgres.remove()


def _runs(engine, tag: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Community).where(Community.city == tag)) or 0
