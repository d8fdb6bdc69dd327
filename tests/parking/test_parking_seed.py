"""The parking demo step: a zone per building plus a shared lot, a week of history, fresh counts, vehicles."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.community.models import Building, Community
from app.core.clock import utcnow
from app.parking import disputes, parking
from app.parking.demo import DEMO_PLATES, seed_parking
from app.parking.models import ParkingDevice, ParkingZone, Vehicle, ZoneSample


def test_seed_parking_covers_every_building_and_runs_once(db_session, make_resident):
    for number in ("1", "2", "30"):
        make_resident(number, "1", "101", openid=f"o_seed_{number}")
    community = db_session.scalar(select(Community))
    seed_parking(db_session, community)
    zones = db_session.scalars(select(ParkingZone).where(ParkingZone.community_id == community.id)).all()
    buildings = db_session.scalars(select(Building.number).where(Building.community_id == community.id)).all()
    assert sorted(z.name for z in zones) == sorted([f"{b}幢" for b in buildings] + ["北门停车场"])
    now = utcnow()
    for zone in zones:
        assert 0 <= zone.fixed_occupied <= zone.fixed_capacity
        assert 0 <= zone.temporary_occupied <= zone.temporary_capacity
        assert now - zone.last_event_at < timedelta(minutes=5)
    oldest = db_session.scalar(select(func.min(ZoneSample.bucket)))
    assert now - oldest >= timedelta(days=6, hours=23)
    found = parking.availability(db_session, None, community.id)
    assert not any(a.stale for a in found)
    assert db_session.scalar(select(func.count()).select_from(Vehicle)) == 4  # 3 plates, the first claimed twice
    assert disputes.disputed_plates(db_session, community.id) == {DEMO_PLATES[0]}
    assert db_session.scalar(select(ParkingDevice.key_id)) == "cam_demo"
    samples = db_session.scalar(select(func.count()).select_from(ZoneSample))
    seed_parking(db_session, community)
    assert db_session.scalar(select(func.count()).select_from(ZoneSample)) == samples
