"""Snapshots: every figure of a community computed in one pass and kept in one row, so opening the cockpit
reads one row instead of running the queries. The periodic job refreshes every community's row."""

from __future__ import annotations

import time as _time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cockpit import device_figures, figures, plan, trends
from app.cockpit.models import Snapshot
from app.community.models import Community

REFRESH_EVERY_SECONDS = 30  # the periodic job's interval: well inside the 60 s a figure may age


def compute(session: Session, community_id: int, now: datetime) -> dict:
    """Every figure of one community at `now` (naive UTC): raw counts, one tile per installed feature."""
    presence = figures.Presence(session)
    has = presence.has
    out: dict = {"buildings": figures.buildings(session, community_id),
                 "residents": figures.residents(session, community_id, now)}
    if has("app.tickets", "ticket"):
        out["tickets"] = figures.tickets(session, community_id, now)
    if has("app.wishes", "wish"):
        out["wishes"] = figures.wishes(session, community_id)
    if has("app.parking", "parking_zone", "zone_sample"):
        out["parking"] = figures.parking(session, community_id)
        out["parking_hours"] = trends.parking_hours(session, community_id, now)
    if has("app.clinic", "clinic_booking"):
        out["clinic"] = figures.clinic(session, community_id, now)
    live: list[dict] = []
    if has("app.escalations", "escalation"):
        out["escalations"] = figures.escalations(session, community_id, now)
        live += device_figures.recent_escalations(session, community_id)
    if has("app.campaigns", "campaign", "delivery"):
        out["campaigns"] = figures.campaigns(session, community_id, now)
    if has("app.devices", "alarm", "device"):
        out["alarms"] = device_figures.alarms(session, community_id)
        out["devices"] = device_figures.devices(session, community_id)
        live += device_figures.recent_alarms(session, community_id)
    if has("app.welfare", "welfare_check"):
        out["welfare"] = device_figures.welfare(session, community_id)
    out["trends"] = trends.daily(session, presence, community_id, now)
    out["plan"] = plan.plan(out)
    out["heatmap"] = plan.heatmap(out)
    out["live"] = sorted(live, key=lambda e: e["at"] or "", reverse=True)[:device_figures.RECENT]
    return out


def refresh(session: Session, community_id: int, now: datetime) -> Snapshot:
    """Compute one community's figures and keep them in its snapshot row (flushed)."""
    started = _time.perf_counter()
    data = compute(session, community_id, now)
    took = int((_time.perf_counter() - started) * 1000)
    row = session.get(Snapshot, community_id)
    if row is None:
        row = Snapshot(community_id=community_id, figures=data, computed_at=now, took_ms=took)
        session.add(row)
    else:
        row.figures, row.computed_at, row.took_ms = data, now, took
    session.flush()
    return row


def refresh_all(session: Session, now: datetime) -> list[Snapshot]:
    """Refresh the snapshot of every community."""
    ids = session.scalars(select(Community.id).order_by(Community.id)).all()
    return [refresh(session, community_id, now) for community_id in ids]


def load(session: Session, community_id: int) -> Snapshot | None:
    """A community's last snapshot, if the job has made one."""
    return session.get(Snapshot, community_id)


def age_seconds(snapshot: Snapshot, now: datetime) -> int:
    """How old the snapshot's figures are."""
    return max(0, int((now - snapshot.computed_at).total_seconds()))
