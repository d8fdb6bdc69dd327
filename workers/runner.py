"""The worker process: an RQ worker with the scheduler on, an outbox relay thread, and the cron process."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from app.core.outbox import QUEUES, get_queue, reconcile, relay
from app.core.redis_conn import get_redis
from workers.context import preload
from workers.cron import load_cron

log = logging.getLogger(__name__)
RELAY_EVERY = 5.0  # seconds between outbox drains in the worker process


class WorkerStartError(RuntimeError):
    """The worker or cron process cannot start; the message says why and what to do."""


class EmbeddedModeError(WorkerStartError):
    """A Redis-only process was started without REDIS_URL."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"REDIS_URL is not set (embedded mode): jobs already run inside the web process, "
            f"so there is no {what} to start. Set REDIS_URL=redis://... to run a separate {what}. "
            f"（未设置 REDIS_URL：嵌入模式下任务在 Web 进程内运行，无需单独启动 {what}）"
        )


def parse_queues(spec: str | Sequence[str] | None) -> list[str]:
    """Queue names from "high,default,low" (checked against QUEUES, order kept)."""
    names = [n.strip() for n in spec.split(",")] if isinstance(spec, str) else list(spec or QUEUES)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in QUEUES]
    if unknown or not names:
        raise ValueError(f"unknown queue(s) {unknown or names}; choose from {', '.join(QUEUES)}")
    return names


class Worker(SimpleWorker):
    """RQ's SimpleWorker, reconnecting within seconds of Redis returning (RQ's default backs off to 60 s)."""

    max_connection_wait_time = 5.0


class RelayLoop(threading.Thread):
    """The worker's watchman, every few seconds: drain the outbox (rows a Redis outage left pending),
    restart RQ's scheduler if it died (it does when Redis goes away; RQ itself looks only every
    10 minutes), and when Redis has restarted and lost its data, hand the lost jobs over again."""

    def __init__(self, app: Flask, every: float = RELAY_EVERY, worker: SimpleWorker | None = None) -> None:
        super().__init__(name="outbox-relay", daemon=True)
        self.app, self.every, self.worker = app, every, worker
        self.stopped = threading.Event()
        self.redis_run_id: str | None = None

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            self.tick()

    def tick(self) -> None:
        """One round: scheduler, Redis restart, outbox."""
        supervise_scheduler(self.worker)
        self.redis_run_id = reconcile_after_restart(self.app, self.redis_run_id)
        relay_once(self.app)

    def stop(self) -> None:
        """Ask the loop to end after its current pass."""
        self.stopped.set()


def supervise_scheduler(worker: SimpleWorker | None) -> bool:
    """Start the worker's RQ scheduler again if its process has died; True when it (re)started one."""
    scheduler = getattr(worker, "scheduler", None)
    if scheduler is None:
        return False
    process = scheduler._process  # RQ keeps the scheduler's process here; it has no public accessor
    if process is not None and process.is_alive():
        return False
    try:
        scheduler.acquire_locks(auto_start=True)
    except RedisError as exc:
        log.info("scheduler not restarted yet, Redis unavailable: %s", exc)
        return False
    restarted = scheduler._process is not None and scheduler._process.is_alive()
    if restarted:
        log.warning("RQ scheduler restarted (pid %s)", scheduler._process.pid)
    return restarted


def reconcile_after_restart(app: Flask, known_run_id: str | None) -> str | None:
    """Redis's run id now; when it differs from the one known, Redis restarted, and every row RQ no
    longer knows is handed over again at once (no grace: the restart is the proof)."""
    try:
        run_id = get_redis(app).info("server").get("run_id")
    except RedisError:
        return known_run_id
    if known_run_id is not None and run_id != known_run_id:
        log.warning("Redis restarted (run id %s -> %s): reconciling the outbox", known_run_id, run_id)
        try:
            with app.app_context():
                reconcile(app, grace=timedelta(0))
        except Exception:  # the database may be down too: the periodic reconcile catches up
            log.exception("reconcile after a Redis restart failed")
            return known_run_id
    return run_id


def relay_once(app: Flask) -> int:
    """One relay pass inside an app context; never raises (the loop must survive outages)."""
    try:
        with app.app_context():
            return relay(app)
    except Exception:  # database briefly down, etc.: log and try again next pass
        log.exception("outbox relay pass failed")
        return 0


def run_worker(app: Flask, queues: Sequence[str] = QUEUES, burst: bool = False) -> bool:
    """Run an RQ worker for the app (built once, preloaded); returns whether it processed jobs."""
    if not app.config.get("REDIS_URL"):
        raise EmbeddedModeError("worker")
    preload(app)
    connection = _reachable_redis(app)
    rq_queues = [get_queue(app, name) for name in queues]
    relay_once(app)  # whatever waited in the outbox while no worker ran
    # SimpleWorker runs jobs in this process: the preloaded app and its connection pool are reused.
    worker = Worker(rq_queues, connection=connection, name=f"linli-{socket.gethostname()}-{uuid.uuid4().hex[:6]}")
    loop = None if burst else RelayLoop(app, worker=worker)
    if loop:
        loop.start()
    try:
        return worker.work(burst=burst, with_scheduler=True)
    finally:
        if loop:
            loop.stop()


def _reachable_redis(app: Flask) -> Redis:
    connection = get_redis(app)
    try:
        connection.ping()
    except RedisError as exc:
        raise WorkerStartError(f"cannot reach Redis at REDIS_URL ({exc}); is redis-server running?") from exc
    return connection


CRON_RETRY_EVERY = 2.0  # seconds between tries to reach Redis again after the cron scheduler lost it


def run_cron(app: Flask, retry_every: float = CRON_RETRY_EVERY) -> None:
    """Run RQ's cron scheduler on the app's Redis until stopped (SIGINT/SIGTERM). When Redis goes away
    the scheduler stops; this starts a new one as soon as Redis answers again."""
    if not app.config.get("REDIS_URL"):
        raise EmbeddedModeError("cron scheduler")
    preload(app)
    connection = _reachable_redis(app)
    while True:
        try:
            load_cron(connection).start()  # returns on SIGINT/SIGTERM
            return
        except RedisError as exc:
            log.warning("cron scheduler lost Redis (%s); starting again when it answers", exc)
        while True:
            time.sleep(retry_every)
            try:
                connection.ping()
                break
            except RedisError:
                continue
