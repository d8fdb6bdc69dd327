"""Demo data for parking: a zone for every demo building and a shared lot, a week of occupancy history
(full at night, emptier by day), current counts, one camera device, and a few registered vehicles (one plate
claimed by two households, so the console shows a dispute)."""

from __future__ import annotations

import math
import random
from datetime import UTC, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.community.models import Building, Community, Resident
from app.core.clock import to_local, utcnow
from app.parking import parking
from app.parking.models import ParkingDevice, ParkingZone, Vehicle, ZoneSample

DEMO_DEVICE_KEY = "cam_demo"
DEMO_DEVICE_SECRET = "demo-camera-secret-change-me"  # demo only; real devices get parking_ingest.new_device
HISTORY = timedelta(days=7)
STEP = timedelta(minutes=15)
DEMO_PLATES = ("浙A3K512", "浙A8M267", "浙AD12345", "浙A5Q901", "浙B6T338")


def _occupancy(capacity: int, at, rng: random.Random) -> int:
    """In use at a local hour: ~95% overnight, ~55% around midday, with a little noise."""
    hour = to_local(at).hour + to_local(at).minute / 60
    night = (math.cos((hour - 2) / 24 * 2 * math.pi) + 1) / 2  # 1 at 02:00, 0 at 14:00
    value = capacity * (0.55 + 0.4 * night) + rng.uniform(-1.5, 1.5)
    return max(0, min(capacity, round(value)))


def feed_demo_counts(session: Session, *, now=None, rng: random.Random | None = None) -> list[ParkingZone]:
    """The demo camera's next report for every zone it covers, through the real ingest path: `make run`'s
    counts stay current (they would go stale 10 minutes after start). Does nothing where the demo device
    does not exist, i.e. anywhere `flask seed-demo` did not run. Returns the zones it updated."""
    from app.parking import ingest  # noqa: PLC0415 - demo only

    device = session.scalar(select(ParkingDevice).where(ParkingDevice.key_id == DEMO_DEVICE_KEY))
    if device is None:
        return []
    now = now or utcnow()
    rng = rng or random.Random()
    updated = []
    for zone in session.scalars(select(ParkingZone).where(ParkingZone.community_id == device.community_id,
                                                          ParkingZone.active.is_(True))):
        report = {"event_id": f"demo-{zone.code}-{int(now.replace(tzinfo=UTC).timestamp())}", "zone": zone.code,
                  "at": now.replace(microsecond=0).isoformat() + "Z",
                  "fixed_occupied": _occupancy(zone.fixed_capacity, now, rng),
                  "temporary_occupied": _occupancy(zone.temporary_capacity, now, rng)}
        if ingest.apply_report(session, device, report, now=now).status == "applied":
            updated.append(zone)
    return updated


def seed_parking(session: Session, community: Community) -> None:
    """Zones, history, a device and vehicles (only when the community has no zones yet)."""
    if session.scalar(select(ParkingZone.id).where(ParkingZone.community_id == community.id).limit(1)):
        return
    rng = random.Random(2026_06)
    buildings = session.scalars(select(Building).where(Building.community_id == community.id)
                                .order_by(Building.position)).all()
    zones = []
    for building in buildings:
        tower = building.number in ("28", "30")
        zones.append(ParkingZone(community_id=community.id, building_id=building.id, code=f"B{building.number}",
                                 name=f"{building.number}幢", fixed_capacity=36 if tower else 14,
                                 temporary_capacity=8 if tower else 3))
    zones.append(ParkingZone(community_id=community.id, code="north-lot", name="北门停车场", fixed_capacity=0,
                             temporary_capacity=30))
    session.add_all(zones)
    session.flush()
    now = utcnow().replace(second=0, microsecond=0)
    start = parking.bucket_of(now - HISTORY)
    rows = []
    for zone in zones:
        at = start
        while at <= now:
            rows.append({"zone_id": zone.id, "bucket": parking.bucket_of(at), "at": at,
                         "fixed_occupied": _occupancy(zone.fixed_capacity, at, rng),
                         "temporary_occupied": _occupancy(zone.temporary_capacity, at, rng)})
            at += STEP
        last = rows[-1]
        zone.fixed_occupied, zone.temporary_occupied = last["fixed_occupied"], last["temporary_occupied"]
        zone.last_event_at = zone.updated_at = now - timedelta(minutes=rng.randint(0, 3))
    session.execute(insert(ZoneSample), rows)
    if session.scalar(select(ParkingDevice.id).where(ParkingDevice.key_id == DEMO_DEVICE_KEY)) is None:
        session.add(ParkingDevice(community_id=community.id, key_id=DEMO_DEVICE_KEY, secret=DEMO_DEVICE_SECRET,
                                  name="演示摄像头网关"))
    owners = session.scalars(select(Resident).where(Resident.community_id == community.id,
                                                    Resident.household_id.is_not(None),
                                                    Resident.oa_openid.is_not(None))
                             .order_by(Resident.id).limit(len(DEMO_PLATES))).all()
    for owner, plate in zip(owners, DEMO_PLATES, strict=False):
        session.add(Vehicle(community_id=community.id, household_id=owner.household_id, resident_id=owner.id,
                            plate=plate, created_at=now - timedelta(days=3)))
    if len(owners) > 1 and owners[-1].household_id != owners[0].household_id:
        # a second household claims the first plate: a dispute for staff to settle in the console
        session.add(Vehicle(community_id=community.id, household_id=owners[-1].household_id,
                            resident_id=owners[-1].id, plate=DEMO_PLATES[0], created_at=now - timedelta(hours=5)))
    session.flush()
