"""Binding jobs: pending bindings expire."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.binding.models import Binding
from app.core.clock import utcnow
from workers.context import job

log = logging.getLogger(__name__)


@job
def expire_bindings(session: Session) -> int:
    """Mark pending bindings past their expires_at as expired; returns how many."""
    result = session.execute(
        update(Binding)
        .where(Binding.status == "pending", Binding.expires_at < utcnow())
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.info("expired %d pending bindings", result.rowcount)
    return result.rowcount
