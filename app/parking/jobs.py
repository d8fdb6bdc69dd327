"""Parking jobs: keep the occupancy event log to the days that idempotency needs."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.parking import ingest as parking_ingest
from workers.context import job

log = logging.getLogger(__name__)


@job
def prune_events(session: Session) -> int:
    """Delete camera reports older than two days (the zone state and the 5-minute history stay)."""
    removed = parking_ingest.prune_events(session)
    if removed:
        log.info("parking: pruned %d old occupancy events", removed)
    return removed
