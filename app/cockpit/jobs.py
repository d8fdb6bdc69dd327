"""Cockpit jobs: refresh every community's snapshot (every 30 s from cron), so the page never runs the queries."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.cockpit import snapshots
from app.core.clock import utcnow
from workers.context import job

log = logging.getLogger(__name__)


@job
def refresh_snapshots(session: Session) -> int:
    """Recompute the figures of every community; returns how many were refreshed."""
    rows = snapshots.refresh_all(session, utcnow())
    slow = [row for row in rows if row.took_ms > 5000]
    for row in slow:
        log.warning("cockpit: the snapshot of community %s took %d ms", row.community_id, row.took_ms)
    return len(rows)
