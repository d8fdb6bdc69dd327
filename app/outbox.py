"""Jobs are written to the outbox in the caller's transaction and relayed to RQ after commit.

A Redis outage during a request therefore loses nothing: the row stays pending and the
next relay (after the next commit, or the worker's relay loop) delivers it.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.outbox import OutboxJob
from app.redis_conn import get_redis
from app.timeutil import utcnow

log = logging.getLogger(__name__)
QUEUES = ("high", "default", "low")
STUCK_AFTER = timedelta(minutes=5)
_local = threading.local()


def enqueue(
    session: Session, func: str, *args, queue: str = "default", run_at: datetime | None = None, **kwargs
) -> OutboxJob:
    """Record a job (by dotted name) to run after the current transaction commits."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    job = OutboxJob(func=func, args=list(args), kwargs=kwargs, queue=queue, run_at=run_at)
    session.add(job)
    session.info["outbox_dirty"] = True
    return job


def get_queue(app: Flask, name: str = "default") -> Queue:
    """An RQ queue on the app's Redis; in embedded mode jobs run synchronously in-process."""
    embedded = not app.config.get("REDIS_URL")
    return Queue(name, connection=get_redis(app), is_async=not embedded)


def _claim(app: Flask, limit: int) -> list[tuple[int, str, list, dict, str, datetime | None]]:
    """Mark due pending rows as relaying and return what is needed to enqueue them."""
    now = utcnow()
    embedded = not app.config.get("REDIS_URL")
    with Session(db.engine) as s:
        due = or_(OutboxJob.run_at.is_(None), OutboxJob.run_at <= now)
        waiting = OutboxJob.status == "pending"
        if embedded:
            waiting = waiting & due  # no scheduler in embedded mode: hold future jobs here
        stuck = (OutboxJob.status == "relaying") & (OutboxJob.enqueued_at < now - STUCK_AFTER)
        query = select(OutboxJob).where(or_(waiting, stuck)).order_by(OutboxJob.id).limit(limit)
        if s.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = s.scalars(query).all()
        claimed = []
        for row in rows:
            row.status, row.enqueued_at, row.attempts = "relaying", now, row.attempts + 1
            claimed.append((row.id, row.func, row.args, row.kwargs, row.queue, row.run_at))
        s.commit()
    return claimed


def _settle(job_id: int, status: str, error: str | None = None) -> None:
    """Record the relay's outcome: enqueued, pending again (Redis down) or failed (ran and raised)."""
    with Session(db.engine) as s:
        row = s.get(OutboxJob, job_id)
        if row is not None:
            row.status, row.last_error = status, (error or None) and error[:1000]
            s.commit()


def relay(app: Flask | None = None, limit: int = 200) -> int:
    """Push due outbox rows to RQ; returns how many were enqueued. Safe to call any time."""
    app = app or current_app._get_current_object()
    if getattr(_local, "active", False):
        return 0  # a job run synchronously inside a relay committed: the outer loop picks it up
    _local.active = True
    done = 0
    try:
        while True:
            claimed = _claim(app, limit)
            if not claimed:
                return done
            for job_id, func, args, kwargs, queue_name, run_at in claimed:
                queue = get_queue(app, queue_name)
                try:
                    options = {"job_id": f"outbox-{job_id}", "result_ttl": 3600, "failure_ttl": 7 * 86400}
                    if run_at is not None and run_at > utcnow() and queue.is_async:
                        queue.enqueue_at(run_at.replace(tzinfo=None), func, *args, **kwargs, **options)
                    else:
                        queue.enqueue(func, *args, **kwargs, **options)
                except RedisError as exc:
                    log.warning("outbox relay: redis unavailable, job %s stays pending: %s", job_id, exc)
                    _settle(job_id, "pending", f"redis: {exc}")
                    return done
                except Exception as exc:  # embedded mode: the job itself raised while running in-process
                    log.exception("outbox job %s (%s) failed in-process", job_id, func)
                    _settle(job_id, "failed", repr(exc))
                    continue
                _settle(job_id, "enqueued")
                done += 1
    finally:
        _local.active = False


def pending_count(session: Session) -> int:
    """How many outbox rows wait for Redis."""
    query = select(func.count()).select_from(OutboxJob).where(OutboxJob.status.in_(("pending", "relaying")))
    return session.scalar(query) or 0


def install_after_commit_relay(app: Flask) -> None:
    """After any commit that wrote outbox rows, relay them (best effort)."""

    @event.listens_for(db.session, "after_commit")
    def _relay_after_commit(session: Session) -> None:
        if not session.info.pop("outbox_dirty", False):
            return
        if has_app_context():
            relay(current_app._get_current_object())
