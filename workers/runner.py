"""The worker process: an RQ worker with the scheduler on, an outbox relay thread, and the cron process."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Sequence

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from app.core.outbox import QUEUES, get_queue, relay
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


class RelayLoop(threading.Thread):
    """Drain the outbox every few seconds, so rows left pending by a Redis outage go out."""

    def __init__(self, app: Flask, every: float = RELAY_EVERY) -> None:
        super().__init__(name="outbox-relay", daemon=True)
        self.app, self.every = app, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            relay_once(self.app)

    def stop(self) -> None:
        """Ask the loop to end after its current pass."""
        self.stopped.set()


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
    loop = None if burst else RelayLoop(app)
    if loop:
        loop.start()
    # SimpleWorker runs jobs in this process: the preloaded app and its connection pool are
    # reused, and nothing is forked from a process that has a relay thread running.
    worker = SimpleWorker(rq_queues, connection=connection,
                          name=f"linli-{socket.gethostname()}-{uuid.uuid4().hex[:6]}")
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


def run_cron(app: Flask) -> None:
    """Run RQ's cron scheduler on the app's Redis until stopped (SIGINT/SIGTERM)."""
    if not app.config.get("REDIS_URL"):
        raise EmbeddedModeError("cron scheduler")
    preload(app)
    load_cron(_reachable_redis(app)).start()
