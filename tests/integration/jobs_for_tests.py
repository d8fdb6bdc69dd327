"""Job functions the worker tests enqueue by dotted name ("jobs_for_tests.record").

Each run leaves a committed row behind, so a test can count exactly how often a job ran,
in-process (embedded mode) or in a worker subprocess (PYTHONPATH includes this folder).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Community
from workers.context import job


@job
def record(session: Session, tag: str) -> str:
    """Leave one row whose city is tag (one row per run)."""
    session.add(Community(name=f"run-{uuid.uuid4().hex}", city=tag[:50]))
    return tag


@job
def explode(session: Session, why: str) -> None:
    """Always fail, with why in the error."""
    raise RuntimeError(f"job exploded: {why}")


def runs(session: Session, tag: str) -> int:
    """How many times record(tag) has run."""
    return session.scalar(select(func.count()).select_from(Community).where(Community.city == tag)) or 0
