"""What the console shows: the watch list coloured by time since the last sign of life, open checks, recent
outcomes and a per-building summary, each within the staff member's scope; and the resident's own status."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.community.models import Household, Resident, Staff, Unit
from app.welfare import access, checks
from app.welfare import watch as watching
from app.welfare.models import WelfareCheck, WelfareWatch

RECENT = timedelta(days=30)
COLOUR_LABELS = {"green": "正常", "yellow": "偏久", "red": "超时", "grey": "外出/住院", "blue": "探访中"}


def colour(watch: WelfareWatch, now: datetime, check_open: bool) -> str:
    """green under half the threshold, yellow past half, red past it (or a check open); grey away, blue visiting."""
    if watch.mode in ("away", "hospital"):
        return "grey"
    if watch.mode == "visit":
        return "blue"
    if check_open:
        return "red"
    ratio = (now - watch.timer_from) / timedelta(hours=watch.threshold_hours)
    return "green" if ratio < 0.5 else "yellow" if ratio < 1 else "red"


@dataclass
class Row:
    """One watched resident on the list."""

    watch: WelfareWatch
    colour: str
    quiet_for: str  # time since the last sign of life, in words
    check: WelfareCheck | None


@dataclass
class BuildingSummary:
    """One building's line in the summary."""

    building: str
    watched: int = 0
    red: int = 0
    away: int = 0
    open_checks: int = 0
    false_alarms: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class Board:
    """Everything the welfare page shows."""

    rows: list[Row]
    open_checks: list[WelfareCheck]
    recent: list[WelfareCheck]
    summary: list[BuildingSummary]


def _building_key(number: str) -> tuple[int, str]:
    return (int(number) if number.isdigit() else 10**6, number)


def board(session: Session, staff: Staff, now: datetime) -> Board:
    """The welfare page for a staff member: only the watches of their scope."""
    watches = list(session.scalars(
        select(WelfareWatch).where(access.scope(staff))
        .options(joinedload(WelfareWatch.resident).joinedload(Resident.household).joinedload(Household.unit)
                 .joinedload(Unit.building))
        .order_by(WelfareWatch.timer_from)))
    ids = [w.id for w in watches]
    checks_q = (select(WelfareCheck).where(WelfareCheck.watch_id.in_(ids))
                .options(selectinload(WelfareCheck.entries), joinedload(WelfareCheck.resident)))
    open_checks = list(session.scalars(checks_q.where(WelfareCheck.status == "open").order_by(WelfareCheck.raised_at)))
    closed = checks_q.where(WelfareCheck.status == "closed", WelfareCheck.closed_at >= now - RECENT)
    recent = list(session.scalars(closed
                                  .order_by(WelfareCheck.closed_at.desc()).limit(100)))
    by_watch = {c.watch_id: c for c in open_checks}
    rows = [Row(w, colour(w, now, w.id in by_watch), checks.span(now - w.last_activity_at), by_watch.get(w.id))
            for w in watches if w.active]
    order = {"red": 0, "yellow": 1, "blue": 2, "green": 3, "grey": 4}
    rows.sort(key=lambda r: (order[r.colour], r.watch.timer_from))
    summary: dict[str, BuildingSummary] = {}
    for row in rows:
        line = summary.setdefault(row.watch.building, BuildingSummary(row.watch.building))
        line.watched += 1
        line.red += row.colour == "red"
        line.away += row.colour == "grey"
        line.open_checks += row.check is not None
        line.false_alarms += row.watch.false_alarms
    outcomes: dict[str, dict[str, int]] = defaultdict(dict)
    for check in recent:
        counts = outcomes[check.building]
        counts[check.outcome or ""] = counts.get(check.outcome or "", 0) + 1
    for building, counts in outcomes.items():
        if building in summary:
            summary[building].outcomes = counts
    lines = sorted(summary.values(), key=lambda s: _building_key(s.building))
    return Board(rows, open_checks, recent, lines)


def history(session: Session, watch_id: int, limit: int = 20) -> list[WelfareCheck]:
    """A watch's checks, newest first."""
    return list(session.scalars(select(WelfareCheck).where(WelfareCheck.watch_id == watch_id)
                                .options(selectinload(WelfareCheck.entries))
                                .order_by(WelfareCheck.id.desc()).limit(limit)))


def resident_status(watch: WelfareWatch, now: datetime) -> dict:
    """What a watched resident (or their family) sees of their own watch: no other resident's data, no staff notes."""
    return {
        "watched": True,
        "mode": watch.mode,
        "mode_label": watching.MODE_LABELS[watch.mode],
        "mode_until": watch.mode_until,
        "last_activity_at": watch.last_activity_at,
        "threshold_hours": watch.threshold_hours,
        "next_check_at": watching.due_time(watch) if watch.mode != "visit" else None,
        "signals": list(watch.signals),
    }
