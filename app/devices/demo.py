"""The demo community's devices: cameras on the two towers, lift gateways, the central garden's air sensor and
mist curtain, corridor sensors, door locks and water meters of a few elderly residents living alone, and the
east gate's card reader. They use the HTTP door (make run's simulator plays their events)."""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Building, Community, Household, Resident, Tag, Unit, resident_tag
from app.core.clock import utcnow
from app.devices.registry import find_device, register_device

DEMO_SEAL_KEY = "demo-devices"  # only when seeding outside an app (never in make run, which has SECRET_KEY)
# (code, kind, name, building, floor, location, settings)
DEMO_DEVICES = [
    ("cam-28-s", "camera", "28幢南立面摄像头", "28", None, "28幢南立面", {"floors": 12, "columns": 4}),
    ("cam-30-s", "camera", "30幢南立面摄像头", "30", None, "30幢南立面", {"floors": 18, "columns": 4}),
    ("cam-30-n", "camera", "30幢北立面摄像头", "30", None, "30幢北立面", {"floors": 18, "columns": 4}),
    ("lift-28-1", "lift_gateway", "28幢1单元电梯网关", "28", None, "28幢1单元电梯", {}),
    ("lift-30-1", "lift_gateway", "30幢1单元电梯网关", "30", None, "30幢1单元电梯", {}),
    ("lift-30-2", "lift_gateway", "30幢2单元电梯网关", "30", None, "30幢2单元电梯", {}),
    ("air-garden", "air_sensor", "中心花园空气监测", None, None, "中心花园", {}),
    ("mist-garden", "mist_curtain", "中心花园喷雾幕", None, None, "中心花园", {}),
    ("temp-3-1-4", "temp_sensor", "3幢1单元4楼走廊温度", "3", 4, "3幢1单元4楼走廊", {}),
    ("smoke-5-2-3", "smoke_sensor", "5幢2单元3楼走廊烟感", "5", 3, "5幢2单元3楼走廊", {}),
    ("leak-30-b1", "leak_sensor", "30幢地下室水浸", "30", -1, "30幢地下室水泵房", {}),
    ("gate-east", "card_reader", "东门门禁", None, None, "东门", {}),
]
ELDERLY_FLATS = 3


def _elderly_households(session: Session, community: Community) -> list[Household]:
    """A few flats of elderly residents living alone (the 独居老人 tag), in a stable order."""
    query = (select(Household).join(Resident, Resident.household_id == Household.id)
             .join(resident_tag, resident_tag.c.resident_id == Resident.id).join(Tag, Tag.id == resident_tag.c.tag_id)
             .where(Tag.community_id == community.id, Tag.name == "独居老人").order_by(Household.id).distinct()
             .limit(ELDERLY_FLATS))
    return list(session.scalars(query))


def seed_devices(session: Session, community: Community) -> None:
    """Register the demo devices that are missing (HTTP door)."""
    seal_key = current_app.config["SECRET_KEY"] if has_app_context() else DEMO_SEAL_KEY
    now = utcnow()
    wanted = list(DEMO_DEVICES)
    for household in _elderly_households(session, community):
        unit = session.get(Unit, household.unit_id)
        building = session.get(Building, unit.building_id)
        place = f"{building.number}幢{unit.number}单元{household.room}"
        floor = int(household.room[:-2]) if household.room[:-2].isdigit() else None
        wanted.append((f"lock-{household.id}", "door_lock", f"{place}门锁", building.number, floor, place,
                       {"household_id": household.id}))
        wanted.append((f"water-{household.id}", "water_meter", f"{place}水表", building.number, floor, place,
                       {"household_id": household.id}))
    for code, kind, name, building, floor, location, settings in wanted:
        if find_device(session, community.id, code) is not None:
            continue
        settings = {**settings, "transport": "http"}
        household_id = settings.pop("household_id", None)
        device, _secret = register_device(session, community_id=community.id, code=code, kind=kind, now=now,
                                          seal_key=seal_key, name=name, building=building, floor=floor,
                                          location=location, household_id=household_id, settings=settings)
        device.online, device.last_seen_at, device.battery = True, now, 100 if kind in ("door_lock",) else None
