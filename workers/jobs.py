"""The workers' own job: the outbox backstop. Features keep their jobs in their packages.

Jobs take ids and plain values; `@job` gives each one an app context and a session it commits.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from app.core.outbox import reconcile, relay
from workers.context import job


@job
def relay_outbox(session: Session) -> int:
    """Hand due outbox rows to RQ (the backstop for rows a Redis outage left pending)."""
    return relay(current_app._get_current_object())


@job
def reconcile_outbox(session: Session) -> int:
    """Hand over again the jobs Redis lost (the outbox row says enqueued, RQ no longer knows the job)."""
    return reconcile(current_app._get_current_object())
