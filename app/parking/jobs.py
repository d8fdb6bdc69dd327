"""Parking jobs: keep the occupancy event log to the days that idempotency needs; the demo camera feed."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from app.core.redis_conn import get_redis
from app.parking import demo, parking
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


@job
def feed_demo_counts(session: Session) -> int:
    """Development only (registered when LINLI_ENV=development): the demo camera reports every zone."""
    zones = demo.feed_demo_counts(session)
    session.commit()  # before the cache sees the new counts
    conn = get_redis(current_app)
    for zone in zones:
        parking.cache_zone(conn, zone)
    return len(zones)
