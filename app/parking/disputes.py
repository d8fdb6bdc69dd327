"""Disputed plates: any household may claim any plate, so a squatter cannot lock the real owner out and
registering never shows whether a plate was taken. A plate claimed by two or more households is disputed:
car notices to it go to staff, the earlier claimants are told neutrally that the property will verify, and
staff keep one claim and remove the others, which is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.community.models import Resident, Staff
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.notify.notify import notify
from app.parking.models import CarNotice, DisputeResolution, Vehicle

ALSO_CLAIMED = ("您家登记的车辆{plate}，另有一户住户也登记了这个车牌。物业会核实车辆归属；"
                "核实期间，关于这辆车的提醒由物业工作人员转达。")
KEPT = "物业已核实车辆{plate}的登记：登记在您家，关于这辆车的提醒会照常发给您。"
REMOVED = "物业已核实车辆{plate}的登记：这个车牌已从您家的登记车辆中移除。如有疑问请联系物业。"


@dataclass(frozen=True)
class Dispute:
    """A plate claimed by more than one household: its claims, earliest first, and notices waiting for staff."""

    plate: str
    claims: list[Vehicle]
    waiting: int

    @property
    def since(self) -> datetime:
        """When the second claim came in."""
        return self.claims[1].created_at


def claims(session: Session, community_id: int, plate: str) -> list[Vehicle]:
    """Every household's claim to a (normalised) plate, earliest first."""
    return list(session.scalars(select(Vehicle).where(Vehicle.community_id == community_id, Vehicle.plate == plate)
                                .order_by(Vehicle.created_at, Vehicle.id)))


def _tell_household(session: Session, household_id: int, text: str, now: datetime) -> None:
    residents = session.scalars(select(Resident.id).where(Resident.household_id == household_id,
                                                          Resident.status == "active"))
    for resident_id in residents:
        notify(session, resident_id, category="service", text=text, now=now)


def claim_added(session: Session, claim: Vehicle, now: datetime | None = None) -> None:
    """A household claimed a plate: when others had claimed it, they are told the property will verify (the
    new claimant is told nothing, so registering looks the same either way)."""
    now = now or utcnow()
    for other in claims(session, claim.community_id, claim.plate):
        if other.household_id != claim.household_id:
            _tell_household(session, other.household_id, ALSO_CLAIMED.format(plate=claim.plate), now)


def disputes(session: Session, community_id: int) -> list[Dispute]:
    """The community's disputed plates, the longest-standing first."""
    plates = select(Vehicle.plate).where(Vehicle.community_id == community_id).group_by(Vehicle.plate) \
        .having(func.count() > 1)
    rows = session.scalars(select(Vehicle).where(Vehicle.community_id == community_id, Vehicle.plate.in_(plates))
                           .order_by(Vehicle.plate, Vehicle.created_at, Vehicle.id)).all()
    by_plate: dict[str, list[Vehicle]] = {}
    for row in rows:
        by_plate.setdefault(row.plate, []).append(row)
    waiting = dict(session.execute(
        select(CarNotice.plate, func.count()).where(CarNotice.community_id == community_id,
                                                    CarNotice.status == "unmatched",
                                                    CarNotice.plate.in_(list(by_plate)))
        .group_by(CarNotice.plate)).all()) if by_plate else {}
    found = [Dispute(plate, found, waiting.get(plate, 0)) for plate, found in by_plate.items()]
    return sorted(found, key=lambda d: d.since)


def disputed_plates(session: Session, community_id: int) -> set[str]:
    """The community's plates claimed by more than one household."""
    return set(session.scalars(select(Vehicle.plate).where(Vehicle.community_id == community_id)
                               .group_by(Vehicle.plate).having(func.count() > 1)))


def _snapshot(claim: Vehicle, kept: bool) -> dict:
    return {"household_id": claim.household_id, "household": claim.household.label,
            "resident_id": claim.resident_id, "resident": claim.resident.name if claim.resident else "",
            "claimed_at": claim.created_at.isoformat(), "kept": kept}


def resolve(session: Session, staff: Staff, keep_id: int, note: str = "",
            now: datetime | None = None) -> DisputeResolution:
    """Keep one claim to a disputed plate and remove the others; record it and tell each household.
    Raises NotFound (no such claim in the staff's community), Conflict (the plate is not disputed)."""
    now = now or utcnow()
    kept = session.get(Vehicle, keep_id)
    if kept is None or kept.community_id != staff.community_id:
        raise NotFound("没有找到这条车辆登记", code="vehicle_not_found")
    found = claims(session, kept.community_id, kept.plate)
    removed = [c for c in found if c.id != kept.id]
    if not removed:
        raise Conflict("这个车牌现在只有一户登记，不需要处理", code="not_disputed")
    record = DisputeResolution(community_id=kept.community_id, plate=kept.plate,
                               kept_household_id=kept.household_id, staff_id=staff.id, staff_name=staff.name[:50],
                               note=(note or "").strip()[:200], resolved_at=now,
                               claims=[_snapshot(c, c.id == kept.id) for c in found])
    session.add(record)
    for claim in removed:
        _tell_household(session, claim.household_id, REMOVED.format(plate=claim.plate), now)
        session.delete(claim)
    _tell_household(session, kept.household_id, KEPT.format(plate=kept.plate), now)
    session.flush()
    return record


def resolutions(session: Session, community_id: int, limit: int = 20) -> list[DisputeResolution]:
    """The community's latest settled disputes, newest first."""
    return list(session.scalars(select(DisputeResolution).where(DisputeResolution.community_id == community_id)
                                .order_by(DisputeResolution.resolved_at.desc(), DisputeResolution.id.desc())
                                .limit(limit)))
