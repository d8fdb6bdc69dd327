"""Job functions the worker tests enqueue by dotted name ("jobs_for_tests.record"), and a Redis outage.

Each run leaves a committed row behind, so a test can count exactly how often a job ran,
in-process (embedded mode) or in a worker subprocess (PYTHONPATH includes this folder).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.community.models import Community
from app.core.clock import utcnow
from app.core.outbox import enqueue
from app.core.redis_conn import make_redis
from workers.context import job


@job
def record(session: Session, tag: str) -> str:
    """Leave one row whose city is tag (one row per run)."""
    session.add(Community(name=f"run-{uuid.uuid4().hex}", city=tag[:50]))
    return tag


@job
def defer_into_the_past(session: Session, tag: str) -> str:
    """Record a run, then ask to run again an hour ago: a deferral whose time has already come."""
    session.add(Community(name=f"run-{uuid.uuid4().hex}", city=tag[:50]))
    enqueue(session, "jobs_for_tests.defer_into_the_past", tag, run_at=utcnow() - timedelta(hours=1))
    return tag


@job
def chain(session: Session, tag: str) -> str:
    """Record a run, and ask for record(tag + "-next") to follow at once."""
    session.add(Community(name=f"run-{uuid.uuid4().hex}", city=tag[:50]))
    enqueue(session, "jobs_for_tests.record", f"{tag}-next")
    return tag


@job
def explode(session: Session, why: str) -> None:
    """Always fail, with why in the error."""
    raise RuntimeError(f"job exploded: {why}")


def runs(session: Session, tag: str) -> int:
    """How many times record(tag) has run."""
    return session.scalar(select(func.count()).select_from(Community).where(Community.city == tag)) or 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_down(app: Flask) -> Iterator[None]:
    """Point the app's Redis at a closed port (every command raises ConnectionError), then restore."""
    real = app.extensions["redis"]
    app.extensions["redis"] = make_redis(f"redis://127.0.0.1:{_closed_port()}/0")  # built as the app builds it
    try:
        yield
    finally:
        app.extensions["redis"] = real


@job
def flaky(session: Session, tag: str, failures: int) -> str:
    """Fail the first `failures` runs (counted in Redis, which a rolled-back job cannot undo), then record tag."""
    from flask import current_app  # noqa: PLC0415

    from app.core.redis_conn import get_redis  # noqa: PLC0415

    tries = get_redis(current_app).incr(f"test:flaky:{tag}")
    if tries <= failures:
        raise RuntimeError(f"flaky try {tries}")
    return record.__wrapped__(session, tag)
