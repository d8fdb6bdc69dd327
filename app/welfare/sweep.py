"""The periodic sweep: modes that ended, checks that are due, checks nobody acknowledged, faulty devices.

It runs every 5 minutes (not hourly): a check is due at a per-person time (last sign of life + threshold),
and the steward must be told within 15 minutes of it; an hourly run could be up to 60 minutes late. Every
step reads through an index (due_at, mode_until, open checks, faulty devices), so a run over 10,000
watched residents costs little more than the few that are due (bench/welfare_bench.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.welfare import checks, orders
from app.welfare import watch as watching

INTERVAL_SECONDS = 300


def sweep(session: Session, now: datetime) -> checks.SweepReport:
    """One run of the welfare check; flushes, never commits."""
    report = checks.SweepReport()
    report.modes_ended = watching.end_expired_modes(session, now)
    session.flush()
    checks.raise_due(session, now, report)
    checks.escalate_unacknowledged(session, now, report)
    report.orders = orders.check_devices(session, now)
    session.flush()
    return report
