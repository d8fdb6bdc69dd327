"""Helpers for the device-rule tests: devices in a community, events sent through events.ingest at a moment,
a tower's flats and residents, and a calibrated façade grid."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from device_setup import add_device, building

from app.community.models import Community, Household, Resident, Unit
from app.devices import events
from app.devices.models import Device, DeviceEvent
from app.devices.rule_models import FacadeGrid

_ids = itertools.count(1)
CORNERS = [[412, 88], [1506, 140], [1490, 1010], [430, 1042]]


def device(app, db_session, community: Community, code: str, kind: str, *, building_number: str | None = None,
           settings: dict | None = None, **extra) -> Device:
    """A registered device with these settings."""
    row, _ = add_device(app, db_session, community, code, kind, building_number=building_number, **extra)
    if settings:
        row.settings = {**(row.settings or {}), **settings}
        db_session.flush()
    return row


def send(db_session, dev: Device, type_: str, at: datetime, **payload) -> DeviceEvent | None:
    """Ingest one event the device sends at `at` (naive UTC), received at once."""
    event = {"id": payload.pop("event_id", f"ev-{next(_ids)}"), "type": type_,
             "at": at.replace(tzinfo=UTC).isoformat(), **payload}
    return events.ingest(db_session, dev, event, at)


def flats(db_session, community: Community, number: str, units: tuple[str, ...], floors: range,
          seats: tuple[str, ...] = ("01", "02")) -> dict[str, Household]:
    """A building's flats: {"1-1202": household} for unit 1 room 1202."""
    b = building(db_session, community, number)
    out = {}
    for unit_number in units:
        unit = Unit(building_id=b.id, number=unit_number)
        db_session.add(unit)
        db_session.flush()
        for floor in floors:
            for seat in seats:
                h = Household(unit_id=unit.id, room=f"{floor}{seat}")
                db_session.add(h)
                out[f"{unit_number}-{floor}{seat}"] = h
    db_session.flush()
    return out


def resident(db_session, household: Household, name: str = "住户") -> Resident:
    """An active resident of a household."""
    r = Resident(community_id=household.unit.building.community_id, household_id=household.id, name=name,
                 phone=f"139{next(_ids):08d}", role="owner", status="active")
    db_session.add(r)
    db_session.flush()
    return r


def grid(db_session, camera: Device, number: str = "30", *, floors: int = 18, top_floor: int = 18,
         columns: int = 4, column_flats: list[str] | None = None) -> FacadeGrid:
    """A calibrated façade grid for a camera."""
    row = FacadeGrid(community_id=camera.community_id, building_id=building(db_session, _community(db_session, camera),
                                                                            number).id,
                     camera_id=camera.id, floors=floors, top_floor=top_floor, columns=columns, corners=CORNERS,
                     column_flats=column_flats if column_flats is not None else ["1-01", "1-02", "2-01", "2-02"])
    db_session.add(row)
    db_session.flush()
    return row


def _community(db_session, dev: Device) -> Community:
    return db_session.get(Community, dev.community_id)
