"""What both doors of the cockpit (the console page and the wall screen) show: a community's board from its
snapshot, the street's communities side by side, the doctor's health colours, and the live feed's sources."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cockpit import live, present, privacy, snapshots
from app.cockpit.figures import Presence
from app.community import health_access
from app.community.models import Community, Resident, Staff

HEALTH_PURPOSE = "cockpit"


def community_board(session: Session, community: Community, now: datetime, config: Mapping,
                    health: dict | None = None) -> dict:
    """A community's page data from its snapshot (made here only when the job has never run for it)."""
    snap = snapshots.load(session, community.id) or snapshots.refresh(session, community.id, now)
    return present.view(snap.figures, community={"id": community.id, "name": community.name},
                        computed_at=snap.computed_at, now=now, size=privacy.min_group(config),
                        parking_stale_minutes=int(config.get("PARKING_STALE_MINUTES") or 10), health=health)


def street_board(session: Session, communities: list[Community], now: datetime, config: Mapping) -> list[dict]:
    """One line per community of a street: the headline counts from each snapshot."""
    size = privacy.min_group(config)
    rows = []
    for community in communities:
        snap = snapshots.load(session, community.id) or snapshots.refresh(session, community.id, now)
        rows.append(present.street_row(snap.figures, community={
            "id": community.id, "name": community.name, "age_seconds": snapshots.age_seconds(snap, now)}, size=size))
    return rows


def health_colours(session: Session, staff: Staff, config: Mapping, *, ip: str | None,
                   session_ref: str | None) -> dict | None:
    """Health colour counts of the residents this staff member may read (None when their role may not);
    the read is kept in the health-data access log. A resident with no record counts as green, as in the clinic."""
    if not health_access.may_read(staff):
        return None
    from app.clinic.models import HealthRecord  # noqa: PLC0415 - the clinic owns health records

    counts = {"red": 0, "yellow": 0, "green": 0}
    for colour, count in session.execute(
            select(HealthRecord.colour, func.count(Resident.id))
            .outerjoin(HealthRecord, HealthRecord.resident_id == Resident.id)
            .where(health_access.scope(session, staff)).group_by(HealthRecord.colour)):
        key = colour if colour in counts else "green"
        counts[key] += count
    health_access.record(session, staff, action="count", purpose=HEALTH_PURPOSE, ip=ip, session_ref=session_ref,
                         detail="驾驶舱健康颜色统计")
    size = privacy.min_group(config)
    return {"total": privacy.count(sum(counts.values()), size), **privacy.breakdown(counts, size)}


def sources(session: Session) -> live.Sources:
    """Which live feeds this installation has."""
    presence = Presence(session)
    return live.Sources(alarms=presence.has("app.devices", "alarm"),
                        escalations=presence.has("app.escalations", "escalation"))
