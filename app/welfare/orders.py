"""Device work orders: a watched household's lock or meter that is offline or low on battery gets one repair
ticket (through the tickets service), not one an hour, and never a welfare check. The order closes when the
device works again, so a later fault opens a new one; a ticket finished while the fault remains opens one more.

The ticket says what is wrong with the device and where, never that the resident is watched.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.core.clock import to_local
from app.devices.models import Device
from app.tickets.models import OPEN_STATUSES, Ticket
from app.tickets.records import Location
from app.tickets.tickets import create_ticket
from app.welfare.models import WelfareDeviceOrder, WelfareWatch

LOW_BATTERY = 20  # percent
HOUSEHOLD_DEVICES = ("door_lock", "water_meter", "power_meter")
DEVICE_LABELS = {"door_lock": "智能门锁", "water_meter": "智能水表", "power_meter": "智能电表"}
CATEGORIES = {"door_lock": "door", "water_meter": "water", "power_meter": "power"}
SOURCE = "device"


def problem_of(device: Device) -> str | None:
    """offline, low_battery or None (working)."""
    if not device.online:
        return "offline"
    if device.battery is not None and device.battery < LOW_BATTERY:
        return "low_battery"
    return None


def _description(device: Device, problem: str) -> str:
    label = DEVICE_LABELS.get(device.kind, "设备")
    if problem == "offline":
        seen = f"，最后在线 {to_local(device.last_seen_at):%m月%d日 %H:%M}" if device.last_seen_at else ""
        return f"{label}离线{seen}，请上门检查设备（编号 {device.code}）。"
    return f"{label}电量低（{device.battery}%），请上门更换电池（编号 {device.code}）。"


def _open_order(session: Session, device_id: int) -> WelfareDeviceOrder | None:
    return session.scalar(select(WelfareDeviceOrder).where(WelfareDeviceOrder.device_id == device_id,
                                                           WelfareDeviceOrder.closed_at.is_(None)).limit(1))


def check_devices(session: Session, now: datetime) -> int:
    """Open a work order for each faulty device of a watched household that has none; close the orders of
    devices that work again. Returns how many orders were opened."""
    opened = 0
    # two plain queries, not a join: device.household_id has no index, and a join on it scans device per watch
    devices = list(session.scalars(select(Device).where(
        Device.active.is_(True), Device.kind.in_(HOUSEHOLD_DEVICES), Device.household_id.is_not(None),
        or_(Device.online.is_(False), Device.battery < LOW_BATTERY))))
    watches = {w.household_id: w for w in session.scalars(select(WelfareWatch).where(
        WelfareWatch.active.is_(True), WelfareWatch.household_id.in_({d.household_id for d in devices})))}
    for device in devices:
        watch = watches.get(device.household_id)
        if watch is None:
            continue
        problem = problem_of(device)
        order = _open_order(session, device.id)
        if order is not None:
            ticket = session.get(Ticket, order.ticket_id) if order.ticket_id else None
            if ticket is not None and ticket.status in (*OPEN_STATUSES, "resolved") and order.problem == problem:
                continue
            order.closed_at = now  # its ticket was finished (or the fault changed) but the device still fails
        session.add(WelfareDeviceOrder(device_id=device.id, watch_id=watch.id, problem=problem, opened_at=now,
                                       ticket_id=_ticket(session, device, watch, problem, now).id))
        opened += 1
    _close_recovered(session, now)
    session.flush()
    return opened


def _ticket(session: Session, device: Device, watch: WelfareWatch, problem: str, now: datetime) -> Ticket:
    household = watch.resident.household
    location = (Location(household.unit.building.number, household.unit.number, household.room, "家中")
                if household else Location(place=device.location or "家中"))
    return create_ticket(session, resident=watch.resident, kind="repair", category=CATEGORIES[device.kind],
                         description=_description(device, problem), location=location, source=SOURCE,
                         urgent=False, now=now)


def _close_recovered(session: Session, now: datetime) -> None:
    rows = session.execute(select(WelfareDeviceOrder, Device).join(Device, Device.id == WelfareDeviceOrder.device_id)
                           .where(WelfareDeviceOrder.closed_at.is_(None), Device.online.is_(True),
                                  or_(Device.battery.is_(None), Device.battery >= LOW_BATTERY))).all()
    for order, _device in rows:
        order.closed_at = now


def orders_of(session: Session, watch_id: int) -> list[WelfareDeviceOrder]:
    """A watch's device work orders, newest first."""
    return list(session.scalars(select(WelfareDeviceOrder).where(WelfareDeviceOrder.watch_id == watch_id)
                                .order_by(WelfareDeviceOrder.id.desc()).limit(20)))
