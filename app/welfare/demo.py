"""Demo welfare: every demo resident tagged 独居老人 watched with their own consent, a door lock in each flat (the
device core's demo has some; the rest are added here), signs of life spread over the last days; one resident
due for a check on the first sweep, one in hospital, one whose lock's battery is low (a work order)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Community, Resident, Staff, Tag, resident_tag
from app.core.clock import utcnow
from app.devices.demo import DEMO_SEAL_KEY
from app.devices.registry import find_device, register_device
from app.welfare import watch as watching
from app.welfare.models import WelfareWatch

DUE, IN_HOSPITAL, LOW_BATTERY = 0, 1, 2  # positions in the list of watched residents


def _alone(session: Session, community: Community) -> list[Resident]:
    query = (select(Resident).join(resident_tag, resident_tag.c.resident_id == Resident.id)
             .join(Tag, Tag.id == resident_tag.c.tag_id)
             .where(Tag.community_id == community.id, Tag.name == "独居老人", Resident.household_id.is_not(None),
                    Resident.status == "active").order_by(Resident.id))
    return list(session.scalars(query))


def _steward(session: Session, community: Community, building: str) -> Staff | None:
    stewards = session.scalars(select(Staff).where(Staff.community_id == community.id, Staff.role == "steward")
                               .order_by(Staff.id))
    return next((s for s in stewards if s.covers_building(building)), None)


def _lock(session: Session, community: Community, resident: Resident, now, battery: int):
    household = resident.household
    code = f"lock-{household.id}"  # the device core's demo names its locks the same way
    device = find_device(session, community.id, code)
    if device is None:
        seal_key = current_app.config["SECRET_KEY"] if has_app_context() else DEMO_SEAL_KEY
        floor = int(household.room[:-2]) if household.room[:-2].isdigit() else None
        device, _secret = register_device(session, community_id=community.id, code=code, kind="door_lock", now=now,
                                          seal_key=seal_key, name=f"{household.label}门锁",
                                          building=household.unit.building.number, floor=floor,
                                          location=household.label, household_id=household.id,
                                          settings={"transport": "http"})
    device.online, device.last_seen_at, device.battery = True, now, battery
    return device


def seed_welfare(session: Session, community: Community) -> None:
    """Demo seed step: watch the residents living alone (only those not watched yet)."""
    now = utcnow()
    watched = set(session.scalars(select(WelfareWatch.resident_id).where(WelfareWatch.community_id == community.id)))
    for index, resident in enumerate(_alone(session, community)):
        if resident.id in watched:
            continue
        building = resident.household.unit.building.number
        lock = _lock(session, community, resident, now, battery=12 if index == LOW_BATTERY else 80 + index % 20)
        session.flush()
        digits = int(hashlib.sha256(resident.phone.encode()).hexdigest(), 16) % 10**8
        watch = watching.start_watch(
            session, resident, consent_by=resident.name, relation="self", consented_at=now - timedelta(days=30),
            now=now - timedelta(days=30), staff=_steward(session, community, building),
            family_name=f"{resident.name[0]}先生（子女）", family_phone=f"139{digits:08d}")
        threshold = timedelta(hours=watch.threshold_hours)
        if index == DUE:
            last = now - threshold - timedelta(minutes=20)  # the first sweep raises a check
        else:
            last = now - min(threshold * 0.8, timedelta(hours=3 + (index * 7) % 60))
        watching.record_signal(session, watch, "door_lock", last, device_id=lock.id)
        watch.last_activity_at, watch.timer_from = last, last
        if index == IN_HOSPITAL:
            watching.set_mode(session, watch, "hospital", until=now + timedelta(days=5), by="楼栋管家（演示）", now=now)
        watching.refresh_due(session, watch, check_open=False)
    session.flush()
