"""Parking zones: their availability (from a Redis hash per community, rebuilt from the database when
missing), staleness, nearest buildings with space, and the 5-minute occupancy history."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.community.models import Building
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationFailed
from app.parking.models import ParkingZone, ZoneSample

log = logging.getLogger(__name__)

STALE_MINUTES = 10  # default for PARKING_STALE_MINUTES
BUCKET = timedelta(minutes=5)
CACHE_KEY = "parking:avail:{community_id}"


@dataclass(frozen=True)
class Availability:
    """What residents see of one zone: free counts, when they were counted, and whether that is too old."""

    zone_id: int
    code: str
    name: str
    building: str | None
    position: int
    fixed_capacity: int
    fixed_free: int
    temporary_capacity: int
    temporary_free: int
    at: datetime | None  # naive UTC of the newest count
    stale: bool

    @property
    def has_space(self) -> bool:
        """Any free space, fixed or temporary, by a current count."""
        return not self.stale and (self.fixed_free > 0 or self.temporary_free > 0)

    def age_minutes(self, now: datetime) -> int | None:
        """Whole minutes since the count (None when never counted)."""
        return None if self.at is None else max(int((now - self.at).total_seconds() // 60), 0)


# ---- zones -------------------------------------------------------------------------------------

def create_zone(session: Session, *, community_id: int, code: str, name: str, fixed_capacity: int,
                temporary_capacity: int, building_id: int | None = None) -> ParkingZone:
    """A new zone (a building's spaces or a shared lot); the code is what the camera system reports."""
    if fixed_capacity < 0 or temporary_capacity < 0:
        raise ValidationFailed("车位数不能为负数", code="invalid_capacity")
    zone = ParkingZone(community_id=community_id, building_id=building_id, code=code.strip(), name=name.strip(),
                       fixed_capacity=fixed_capacity, temporary_capacity=temporary_capacity)
    try:
        with session.begin_nested():
            session.add(zone)
    except IntegrityError as exc:
        raise Conflict("这个停车区域编号已存在", code="zone_exists") from exc
    return zone


def zones(session: Session, community_id: int) -> list[ParkingZone]:
    """The community's active zones, buildings first in walking order, then shared lots."""
    rows = session.scalars(select(ParkingZone).where(ParkingZone.community_id == community_id,
                                                     ParkingZone.active.is_(True)))
    return sorted(rows, key=lambda z: (z.building is None, z.building.position if z.building else 0, z.name))


def _entry(zone: ParkingZone) -> dict:
    building = zone.building
    return {"id": zone.id, "code": zone.code, "name": zone.name,
            "building": building.number if building is not None else None,
            "position": building.position if building is not None else 10_000,
            "fc": zone.fixed_capacity, "ff": zone.fixed_free, "tc": zone.temporary_capacity,
            "tf": zone.temporary_free, "at": zone.last_event_at.isoformat() if zone.last_event_at else None}


def _availability(entry: dict, now: datetime, stale_minutes: int) -> Availability:
    at = datetime.fromisoformat(entry["at"]) if entry.get("at") else None
    stale = at is None or now - at > timedelta(minutes=stale_minutes)
    return Availability(zone_id=entry["id"], code=entry["code"], name=entry["name"], building=entry["building"],
                        position=entry["position"], fixed_capacity=entry["fc"], fixed_free=entry["ff"],
                        temporary_capacity=entry["tc"], temporary_free=entry["tf"], at=at, stale=stale)


# ---- the cache ---------------------------------------------------------------------------------

def cache_zone(conn: redis.Redis | None, zone: ParkingZone) -> None:
    """Write a zone's counts into its community's hash, unless the hash already holds a newer count."""
    if conn is None:
        return
    key, field, entry = CACHE_KEY.format(community_id=zone.community_id), str(zone.id), _entry(zone)
    try:
        with conn.pipeline() as pipe:
            for _attempt in range(5):
                try:
                    pipe.watch(key)
                    if not pipe.exists(key):  # missing hash: the next read rebuilds it whole
                        pipe.unwatch()
                        return
                    current = pipe.hget(key, field)
                    if current and entry["at"] and (json.loads(current).get("at") or "") > entry["at"]:
                        pipe.unwatch()
                        return
                    pipe.multi()
                    pipe.hset(key, field, json.dumps(entry, ensure_ascii=False))
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue
    except redis.RedisError as exc:  # the database stays right; the cache is dropped so a read rebuilds it
        log.warning("parking cache: could not update zone %s: %s", zone.id, exc)
        drop_cache(conn, zone.community_id)


def drop_cache(conn: redis.Redis | None, community_id: int) -> None:
    """Forget a community's cached availability (zones added or changed by staff)."""
    if conn is None:
        return
    try:
        conn.delete(CACHE_KEY.format(community_id=community_id))
    except redis.RedisError as exc:
        log.warning("parking cache: could not drop community %s: %s", community_id, exc)


def _entries(session: Session, conn: redis.Redis | None, community_id: int) -> list[dict]:
    """The cached entries, rebuilt from the database when the hash is missing (or Redis is down)."""
    key = CACHE_KEY.format(community_id=community_id)
    if conn is not None:
        try:
            cached = conn.hgetall(key)
            if cached:
                return [json.loads(v) for v in cached.values()]
        except redis.RedisError as exc:
            log.warning("parking cache unavailable, reading the database: %s", exc)
            conn = None
    entries = [_entry(zone) for zone in zones(session, community_id)]
    if conn is not None and entries:
        try:  # HSETNX: an update cached while we read the database is newer than our snapshot; keep it
            with conn.pipeline() as pipe:
                for e in entries:
                    pipe.hsetnx(key, str(e["id"]), json.dumps(e, ensure_ascii=False))
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("parking cache: could not rebuild community %s: %s", community_id, exc)
    return entries


def availability(session: Session, conn: redis.Redis | None, community_id: int, *, now: datetime | None = None,
                 stale_minutes: int = STALE_MINUTES) -> list[Availability]:
    """Every zone of a community with its free counts and staleness, in walking order."""
    now = now or utcnow()
    found = [_availability(e, now, stale_minutes) for e in _entries(session, conn, community_id)]
    return sorted(found, key=lambda a: (a.position, a.name))


def for_building(found: list[Availability], number: str) -> list[Availability]:
    """The zones of one building (by its number, as residents say it)."""
    return [a for a in found if a.building == number]


def nearest_with_space(found: list[Availability], position: int, *, exclude: str | None = None,
                       limit: int = 3) -> list[Availability]:
    """Buildings' zones with current free space, nearest first by walking order (shared lots last)."""
    candidates = [a for a in found if a.has_space and a.building is not None and a.building != exclude]
    return sorted(candidates, key=lambda a: (abs(a.position - position), a.position))[:limit]


def building_position(session: Session, community_id: int, number: str) -> int | None:
    """A building's walking-order position."""
    return session.scalar(select(Building.position).where(Building.community_id == community_id,
                                                          Building.number == number))


# ---- history -----------------------------------------------------------------------------------

def bucket_of(at: datetime) -> datetime:
    """The start of the 5-minute bucket a time falls in."""
    return at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)


def record_sample(session: Session, zone: ParkingZone, *, fixed_occupied: int, temporary_occupied: int,
                  at: datetime) -> None:
    """Keep the newest count of each 5-minute bucket (a late count never replaces a newer one); one upsert."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # noqa: PLC0415
    else:
        from sqlalchemy.dialects.sqlite import insert  # noqa: PLC0415
    stmt = insert(ZoneSample).values(zone_id=zone.id, bucket=bucket_of(at), fixed_occupied=fixed_occupied,
                                     temporary_occupied=temporary_occupied, at=at)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["zone_id", "bucket"],
        set_={"fixed_occupied": stmt.excluded.fixed_occupied, "temporary_occupied": stmt.excluded.temporary_occupied,
              "at": stmt.excluded.at},
        where=ZoneSample.at <= stmt.excluded.at))


def history(session: Session, zone_id: int, *, start: datetime, end: datetime,
            step: timedelta = BUCKET) -> list[tuple[datetime, float, float]]:
    """(time, fixed occupied, temporary occupied) from start to end, averaged over each step."""
    rows = session.execute(select(ZoneSample.bucket, ZoneSample.fixed_occupied, ZoneSample.temporary_occupied)
                           .where(ZoneSample.zone_id == zone_id, ZoneSample.bucket >= start,
                                  ZoneSample.bucket < end).order_by(ZoneSample.bucket)).all()
    groups: dict[datetime, list[tuple[int, int]]] = {}
    for bucket, fixed, temporary in rows:
        slot = start + step * int((bucket - start) / step)
        groups.setdefault(slot, []).append((fixed, temporary))
    return [(slot, sum(f for f, _ in vals) / len(vals), sum(t for _, t in vals) / len(vals))
            for slot, vals in sorted(groups.items())]
