"""The simulator: a realistic day of the demo devices played through events.ingest, the one entry the doors use.

The day: the air station reports every 5 minutes, a corridor thermometer every 15; PM2.5 rises from 10:40 to a
plateau of about 100 µg/m³ over noon and falls back by 15:00, so the mist curtain turns on (about 11:25)
and off (about 14:35); an e-bike is wheeled into 28幢's lift at 08:12 and leaves, and the same registered
bike comes back at 19:41 and stays, so the fail-safe releases the doors and its owner gets a polite notice;
a flowerpot falls from 30幢's 12th floor at 17:30. The simulated devices answer their commands as a real
gateway would (they fetch and acknowledge them).

`flask devices simulate --now` plays the 24 hours that end now at once (the demo seed does this, so the
console opens with alarms); `--speed 60` plays from `--from` (default: now) live, 60 times faster.
"""

from __future__ import annotations

import hashlib
import math
import time as walltime
from datetime import UTC, datetime, time, timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Building, Community, Household, Resident, Unit
from app.core.clock import SHANGHAI, to_local, utcnow
from app.devices import air, commands, events, falling, lift, sensors
from app.devices.models import Device, DeviceCommand
from app.devices.registry import find_device
from app.devices.rule_models import FacadeGrid, LiftCase

EVERY = timedelta(minutes=5)
SWEEP_EVERY = timedelta(minutes=15)  # the rules' sweeps while playing (incidents add their own "sweep" items)
LIVE_WINDOW = timedelta(seconds=90)  # the live feed runs every minute; event ids keep a late one from repeating
EBIKE_TAG = "EB-2803"
CORNERS = [[412, 88], [1506, 140], [1490, 1010], [430, 1042]]  # 30幢's south face in a 1920×1080 frame
# code -> (kind, building, name, location, settings): the demo's own devices (app/devices/demo.py seeds them with
# these codes; created here when missing). transport http: they fetch and acknowledge their commands.
DEVICES = {
    "cam-30-s": ("camera", "30", "30幢南立面摄像头", "30幢南立面", {}),
    "lift-28-1": ("lift_gateway", "28", "28幢1单元电梯网关", "28幢1单元电梯", {"failsafe_s": 45}),
    "air-garden": ("air_sensor", None, "中心花园空气监测", "中心花园", {"interval_s": 300}),
    "mist-garden": ("mist_curtain", None, "中心花园喷雾幕", "中心花园", {"sensors": ["air-garden"]}),
    "temp-3-1-4": ("temp_sensor", "3", "3幢1单元4楼走廊温度", "3幢1单元4楼走廊", {"interval_s": 900}),
}


def _wave(minute: int, period: float, amplitude: float, phase: float = 0) -> float:
    return amplitude * math.sin(2 * math.pi * (minute + phase) / period)


def pm25_at(minute: int) -> float:
    """The day's PM2.5 at a minute of the local day: ~35 with ripples, a plateau of ~100 over noon."""
    if minute < 640 or minute >= 900:
        rise = 0.0
    elif minute < 700:
        rise = (minute - 640) / 60
    elif minute < 810:
        rise = 1.0
    else:
        rise = (900 - minute) / 90
    return round(35 + _wave(minute, 97, 4) + _wave(minute, 31, 2) + 65 * rise, 1)


def readings(local: datetime) -> list[tuple[str, dict]]:
    """What the periodic sensors report at a local moment."""
    m = local.hour * 60 + local.minute
    pm25 = pm25_at(m)
    outside = round(9 + _wave(m, 1440, 6, -480) + _wave(m, 53, 0.3), 1)
    stamp = local.strftime("%Y%m%d%H%M")
    out = [
        ("air-garden", {"id": f"air-garden-{stamp}", "type": "air_reading", "pm25": pm25,
                        "pm10": round(pm25 * 1.55 + _wave(m, 41, 3), 1), "temperature": outside,
                        "wind": round(2.4 + _wave(m, 180, 0.9), 1), "rain": 0, "tank_level": round(86 - m / 60, 1)}),
        ("temp-3-1-4", {"id": f"temp-3-1-4-{stamp}", "type": "temperature",
                        "value": round(19 + _wave(m, 1440, 1.5, -480) + _wave(m, 23, 0.2), 2)}),
    ]
    return out if m % 15 == 0 else out[:1]  # the corridor thermometer reports every 15 minutes


def trajectory(corners=CORNERS, floors: int = 18, floor: int = 12, column: int = 2) -> list[dict]:
    """A falling object's image track from the lower part of a window: floor, column (1-based) of 4."""
    u, v = (column - 0.5) / 4, (floors - floor + 0.6) / floors
    x0, y0 = falling.project(falling.homography(falling.UNIT_SQUARE, corners), u, v)
    g = 9.8 * (corners[3][1] - corners[0][1]) / (floors * 3.0)  # px/s² at ~3 m a floor
    lag = 0.3  # the camera picks the object up this long after it left the sill
    return [{"t": round(i * 0.2, 1), "x": round(x0 + 6 * (i * 0.2 + lag), 1),
             "y": round(y0 + 0.5 * g * (i * 0.2 + lag) ** 2, 1)} for i in range(12)]


def _fake_hash(ref: str) -> str:
    return hashlib.sha256(f"demo-evidence:{ref}".encode()).hexdigest()


def incidents(day) -> list[tuple[time, str, dict]]:
    """The day's incidents at local times ("sweep" entries: the rules' sweeps run then)."""
    stamp = day.strftime("%Y%m%d")
    clip = f"nvr://cam-30-s/{day.isoformat()}/173008-173024.mp4"
    snap = f"nvr://cam-30-s/{day.isoformat()}/173012.jpg"
    return [
        (time(8, 12, 5), "lift-28-1", {"id": f"ebike-{stamp}-1", "type": "ebike_detected", "tag": EBIKE_TAG,
                                       "confidence": 0.93}),
        (time(8, 12, 41), "lift-28-1", {"id": f"ebike-left-{stamp}-1", "type": "ebike_left"}),
        (time(17, 30, 12), "cam-30-s", {
            "id": f"fall-{stamp}-1", "type": "falling_object", "object": "花盆", "trajectory": trajectory(),
            "clips": [{"ref": clip, "sha256": _fake_hash(clip), "start": f"{day.isoformat()}T17:30:08+08:00",
                       "end": f"{day.isoformat()}T17:30:24+08:00"}],
            "snapshots": [{"ref": snap, "sha256": _fake_hash(snap), "at": f"{day.isoformat()}T17:30:12+08:00"}]}),
        (time(19, 41, 10), "lift-28-1", {"id": f"ebike-{stamp}-2", "type": "ebike_detected", "tag": EBIKE_TAG,
                                         "confidence": 0.88}),
        (time(19, 42, 0), "sweep", {}),  # nothing answers: the fail-safe lets go
    ]


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def day_script(start: datetime, end: datetime) -> list[tuple[datetime, str, dict]]:
    """Everything the devices send in (start, end] (naive UTC), in order."""
    out = []
    day, last = to_local(start).date(), to_local(end).date()
    while day <= last:
        base = datetime.combine(day, time(0), SHANGHAI)
        for i in range(24 * 60 // 5):
            local = base + EVERY * i
            out += [(_utc(local), code, event) for code, event in readings(local)]
        out += [(_utc(datetime.combine(day, at, SHANGHAI)), code, event) for at, code, event in incidents(day)]
        day += timedelta(days=1)
    return sorted((item for item in out if start < item[0] <= end), key=lambda item: item[0])


# ---- the demo devices and playing the script -------------------------------------------------------


def _building(session: Session, community_id: int, number: str | None) -> Building | None:
    if number is None:
        return None
    return session.scalar(select(Building).where(Building.community_id == community_id, Building.number == number))


def setup(session: Session, community: Community) -> dict[str, Device]:
    """The simulated devices, 30幢's façade grid and the registered e-bike tag (only what is missing)."""
    devices = {}
    for code, (kind, number, name, location, settings) in DEVICES.items():
        device = find_device(session, community.id, code)
        if device is None:
            building = _building(session, community.id, number)
            device = Device(community_id=community.id, code=code, kind=kind, name=name, location=location,
                            building_id=building.id if building else None, settings={},
                            online=False, active=True, created_at=utcnow())
            session.add(device)
            session.flush()
        wanted = {"transport": "http", **settings}
        if any(key not in (device.settings or {}) for key in wanted):
            device.settings = {**wanted, **(device.settings or {})}
        devices[code] = device
    camera, tower = devices["cam-30-s"], _building(session, community.id, "30")
    if tower is not None and falling.grid_for(session, camera.id) is None:
        session.add(FacadeGrid(community_id=community.id, building_id=tower.id, camera_id=camera.id, floors=18,
                               top_floor=18, columns=4, corners=CORNERS,
                               column_flats=falling.default_column_flats(session, tower.id)))
    owner = session.scalar(select(Resident).join(Household, Household.id == Resident.household_id)
                           .join(Unit, Unit.id == Household.unit_id).join(Building, Building.id == Unit.building_id)
                           .where(Building.community_id == community.id, Building.number == "28",
                                  Resident.status == "active").order_by(Resident.id).limit(1))
    if owner is not None:
        lift.register_tag(session, community.id, EBIKE_TAG, owner.id)
    session.flush()
    return devices


def answer_commands(session: Session, devices: dict[str, Device], at: datetime) -> int:
    """Every simulated device fetches its waiting commands and acknowledges them; how many."""
    waiting = set(session.scalars(select(DeviceCommand.device_id).where(
        DeviceCommand.device_id.in_([d.id for d in devices.values()]),
        DeviceCommand.status.in_(("pending", "sent")))))
    done = 0
    for device in devices.values():
        if device.id not in waiting:
            continue
        for message in commands.fetch_pending(session, device, at):
            events.ingest(session, device, {"id": f"ack-{message['id']}-{message['attempt']}", "type": "command_ack",
                                            "command_id": message["id"], "ok": True}, at)
            done += 1
    return done


def sweep(session: Session, at: datetime) -> None:
    """The rules' periodic work at a moment (the jobs do this in production)."""
    lift.sweep_holds(session, at)
    sensors.sweep_silent(session, at)
    air.sweep_curtains(session, at)


def play(session: Session, devices: dict[str, Device], items: list[tuple[datetime, str, dict]], *,
         stamp: datetime | None = None) -> int:
    """Send the items (at, code, event): each at its own time, or all stamped `stamp`; how many were sent."""
    sent, swept = 0, None
    for at, code, event in items:
        now = stamp or at
        if code == "sweep" or swept is None or now - swept >= SWEEP_EVERY:
            sweep(session, now)
            swept = now
        if code != "sweep":
            event = {**event, "at": now.replace(tzinfo=UTC).isoformat()}
            if events.ingest(session, devices[code], event, now) is not None:
                sent += 1
        answer_commands(session, devices, now + timedelta(milliseconds=400))
    return sent


def play_past_day(session: Session, community: Community, end: datetime) -> int:
    """The 24 hours that end at `end`, played at once with their own times (the demo seed, `--now`)."""
    devices = setup(session, community)
    return play(session, devices, day_script(end - timedelta(days=1), end))


def seed_demo_day(session: Session, community: Community) -> None:
    """Demo seed step: the simulated devices and a compressed past day, so the console opens with alarms."""
    devices = setup(session, community)
    played = session.scalar(select(LiftCase.id).where(LiftCase.device_id == devices["lift-28-1"].id).limit(1))
    if played is None:
        play_past_day(session, community, utcnow())


def feed_live(session: Session, now: datetime) -> int:
    """make run's live devices: the sensors' readings for the current 5 minutes, and the day's incidents whose
    time came in the last 90 seconds, in every community that has the simulated devices."""
    sent = 0
    local = to_local(now)
    slot = local.replace(minute=local.minute - local.minute % 5, second=0, microsecond=0)
    due = [(code, event) for at, code, event in incidents(local.date()) if code != "sweep"
           and timedelta(0) <= local - datetime.combine(local.date(), at, SHANGHAI) < LIVE_WINDOW]
    for sensor in session.scalars(select(Device).where(Device.code == "air-garden", Device.active.is_(True))).all():
        devices = {code: find_device(session, sensor.community_id, code) for code in DEVICES}
        if any(d is None for d in devices.values()):
            continue
        sent += play(session, devices, [(now, code, event) for code, event in [*readings(slot), *due]], stamp=now)
    return sent


# ---- the command ---------------------------------------------------------------------------------


def _community(session: Session, name: str | None) -> Community:
    query = select(Community).order_by(Community.id)
    community = session.scalar(query.where(Community.name == name) if name else query)
    if community is None:
        raise click.ClickException("没有这个小区（先运行 flask seed-demo）")
    return community


@click.command("simulate")
@click.option("--now", "past", is_flag=True, help="立即播放截至现在的 24 小时（带各自的时间）")
@click.option("--speed", type=float, default=60.0, show_default=True, help="实时播放的倍速")
@click.option("--from", "start", default=None, help="实时播放从一天中的哪个时刻开始（HH:MM，默认现在）")
@click.option("--hours", type=float, default=24.0, show_default=True, help="实时播放多少小时")
@click.option("--community", default=None, help="小区名称（默认第一个）")
def simulate_command(past: bool, speed: float, start: str | None, hours: float, community: str | None) -> None:
    """模拟一天：演示设备的事件经 events.ingest 播放（高空抛物、电梯电动车、PM2.5 与雾森）。"""
    from app.core.db import db  # noqa: PLC0415

    session = db.session
    target = _community(session, community)
    if past:
        sent = play_past_day(session, target, utcnow())
        session.commit()
        click.echo(f"played the last 24 hours: {sent} events")
        return
    devices = setup(session, target)
    session.commit()
    begin = to_local(utcnow())
    if start:
        hour, _, minute = start.partition(":")
        begin = begin.replace(hour=int(hour), minute=int(minute or 0), second=0, microsecond=0)
    span = timedelta(hours=hours)
    script = [(at, code, event) for at, code, event in day_script(_utc(begin), _utc(begin) + span)]
    real_start = walltime.monotonic()
    for at, code, event in script:
        wait = (at - _utc(begin)).total_seconds() / max(speed, 0.01) - (walltime.monotonic() - real_start)
        if wait > 0:
            walltime.sleep(wait)
        play(session, devices, [(at, code, event)], stamp=utcnow())
        session.commit()
        click.echo(f"{to_local(at):%H:%M:%S} {code} {event.get('type', 'sweep')}")


def init_cli(app: Flask) -> None:
    """Attach `simulate` to the `devices` command group (or a `device-sim` group when there is none)."""
    group = app.cli.commands.get("devices")
    if not isinstance(group, click.Group):
        group = AppGroup("device-sim", help="设备模拟器。")
        app.cli.add_command(group)
    if "simulate" not in group.commands:
        group.add_command(simulate_command)
