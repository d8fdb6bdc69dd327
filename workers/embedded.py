"""Embedded mode (no REDIS_URL): a background ticker relays due outbox rows and runs periodic jobs.

Jobs run synchronously in-process (the outbox uses RQ queues with is_async=False on fakeredis);
delayed jobs wait in the outbox until due, and the periodic jobs come from workers/cron.py,
the same registrations `flask cron` uses.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import Flask
from rq.cron import CronJob
from rq.utils import now as rq_now

from app.core.outbox import get_queue
from app.core.redis_conn import get_redis
from workers.cron import load_cron
from workers.runner import relay_once

log = logging.getLogger(__name__)
TICK_EVERY = 2.0


class EmbeddedTicker:
    """Every few seconds: relay due outbox rows, then run each periodic job that is due."""

    def __init__(self, app: Flask, every: float = TICK_EVERY) -> None:
        self.app, self.every = app, every
        self.cron_jobs: list[CronJob] = load_cron(get_redis(app)).get_jobs()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, at: datetime | None = None) -> list[str]:
        """One pass; returns the names of the periodic jobs it ran."""
        relay_once(self.app)
        ran = []
        for cron_job in self.cron_jobs:
            if at is None and not cron_job.should_run():
                continue
            if at is not None and cron_job.next_enqueue_time is not None and cron_job.next_enqueue_time > at:
                continue
            self._run(cron_job)
            cron_job.set_enqueue_time(at or rq_now())
            ran.append(cron_job.name)
        return ran

    def _run(self, cron_job: CronJob) -> None:
        try:
            with self.app.app_context():
                queue = get_queue(self.app, cron_job.queue_name)
                rq_job = queue.enqueue(cron_job.func, args=cron_job.args, kwargs=cron_job.kwargs,
                                       **cron_job.job_options)
                if rq_job.is_failed:
                    result = rq_job.latest_result()
                    log.error("periodic job %s failed: %s", cron_job.name, result and result.exc_string)
        except Exception:
            log.exception("periodic job %s could not run", cron_job.name)

    def start(self) -> EmbeddedTicker:
        """Start ticking in a daemon thread."""
        if not self._thread:
            self._thread = threading.Thread(target=self._loop, name="embedded-ticker", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current pass."""
        self._stopped.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopped.wait(self.every):
            try:
                self.tick()
            except Exception:  # the ticker must outlive any one bad pass
                log.exception("embedded ticker pass failed")


def start_embedded_ticker(app: Flask, every: float = TICK_EVERY) -> EmbeddedTicker | None:
    """Start the ticker when the app is in embedded mode and EMBEDDED_WORKER is on; else None."""
    if app.config.get("REDIS_URL") or not app.config.get("EMBEDDED_WORKER", True):
        return None
    return EmbeddedTicker(app, every).start()
