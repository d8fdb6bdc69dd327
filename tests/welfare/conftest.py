"""The welfare tests' world: 王秀英 (82, living alone at 3幢1单元201) with a door lock and a water meter, the
steward of buildings 1-7, another steward, a grid worker, and her daughter (a linli resident) as family contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from app.community.models import Resident, Staff
from app.core.clock import local_now, utcnow
from app.core.db import db
from app.devices import events
from app.devices.models import Device
from app.welfare import watch as watching
from app.welfare.models import WelfareWatch
from app.welfare.sweep import sweep


@dataclass
class World:
    resident: Resident
    daughter: Resident
    steward: Staff
    other_steward: Staff
    grid: Staff
    lock: Device
    meter: Device
    watch: WelfareWatch
    seq: int = 0

    def event(self, device: Device, kind: str, at: datetime | None = None, **payload) -> None:
        """A device event through the device core's one entry, committed."""
        self.seq += 1
        now = utcnow()
        at = at or now
        events.ingest(db.session, device, {"id": f"e{self.seq}-{at.timestamp()}", "type": kind,
                                           "at": at.isoformat() + "+00:00", **payload}, now)
        db.session.commit()

    def sweep(self):
        """One run of the periodic check, committed."""
        report = sweep(db.session, utcnow())
        db.session.commit()
        return report

    def reload(self) -> WelfareWatch:
        db.session.expire_all()
        return db.session.get(WelfareWatch, self.watch.id)


def device(community_id: int, household_id: int | None, kind: str, code: str, **extra) -> Device:
    row = Device(community_id=community_id, code=code, kind=kind, name=code, household_id=household_id,
                 online=True, battery=90, last_seen_at=utcnow(), settings={}, **extra)
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(app, make_resident, make_staff, db_session) -> World:
    year = local_now().year
    resident = make_resident("3", "1", "201", name="王秀英", birth_year=year - 82, openid="o_wang",
                             wxa_openid="wxa_wang")
    community = resident.household.unit.building.community
    daughter = make_resident("9", "1", "101", name="李梅", birth_year=year - 50, wxa_openid="wxa_daughter",
                             phone="13900000001", community=community)
    steward = make_staff("steward", username="steward_a", buildings=["1", "2", "3"], community=community)
    steward.wecom_userid = "steward_a"
    other = make_staff("steward", username="steward_b", buildings=["8", "9"], community=community)
    other.wecom_userid = "steward_b"
    grid = make_staff("grid_worker", username="grid_a", community=community)
    grid.wecom_userid = "grid_a"
    lock = device(community.id, resident.household_id, "door_lock", "lock-201")
    meter = device(community.id, resident.household_id, "water_meter", "water-201")
    now = utcnow()
    watch = watching.start_watch(db_session, resident, consent_by="王秀英", relation="self", consented_at=now, now=now,
                                 staff=steward, family_name="李梅", family_phone="13900000001")
    db_session.commit()
    return World(resident, daughter, steward, other, grid, lock, meter, watch)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
