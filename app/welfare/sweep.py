"""The periodic sweep: modes that ended, checks that are due, checks nobody acknowledged, faulty devices.

It runs every 5 minutes (not hourly): a check is due at a per-person time (last sign of life + threshold),
and the steward must be told within 15 minutes of it; an hourly run could be up to 60 minutes late. Every
step reads through an index (due_at, mode_until, open checks, faulty devices), so a run over 10,000
watched residents costs little more than the few that are due (bench/welfare_bench.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chat.models import Conversation
from app.welfare import checks, orders
from app.welfare import watch as watching
from app.welfare.models import WelfareSignal, WelfareWatch

INTERVAL_SECONDS = 300


def sweep(session: Session, now: datetime) -> checks.SweepReport:
    """One run of the welfare check; flushes, never commits."""
    report = checks.SweepReport()
    chat_signs(session, now)
    report.modes_ended = watching.end_expired_modes(session, now)
    session.flush()
    checks.raise_due(session, now, report)
    checks.escalate_unacknowledged(session, now, report)
    report.orders = orders.check_devices(session, now)
    session.flush()
    return report


def chat_signs(session: Session, now: datetime) -> int:
    """Messages watched residents wrote since their chat signal was last noted count as signs of life (the
    chat turn itself does not look the watch up); returns how many watches moved forward."""
    noted = (select(WelfareSignal.last_at).where(WelfareSignal.watch_id == WelfareWatch.id,
                                                 WelfareSignal.kind == "chat").scalar_subquery())
    wrote = func.max(Conversation.last_inbound_at)
    rows = session.execute(
        select(WelfareWatch, wrote)
        .join(Conversation, Conversation.resident_id == WelfareWatch.resident_id)
        .where(WelfareWatch.active.is_(True), Conversation.last_inbound_at.isnot(None))
        .group_by(WelfareWatch.id)
        .having(func.coalesce(noted, WelfareWatch.created_at) < wrote)).all()
    moved = 0
    for watch, at in rows:
        if "chat" in watch.signals:
            checks.sign_of_life(session, watch, "chat", min(at, now), now)
            moved += 1
    return moved
