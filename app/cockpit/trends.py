"""Counts over time: new tickets, escalations, wishes, bookings and alarms per Shanghai day for 30 days
(a day with none is a zero), and parking occupancy per hour over the last 24 hours."""

from __future__ import annotations

import importlib
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cockpit.figures import Presence, local_day_start
from app.core.clock import to_local

DAYS = 30
SERIES = (  # key, feature, tables, "module:Model.column" read lazily
    ("tickets", "app.tickets", ("ticket",), "app.tickets.models", "Ticket", "created_at"),
    ("escalations", "app.escalations", ("escalation",), "app.escalations.models", "Escalation", "created_at"),
    ("alarms", "app.devices", ("alarm",), "app.devices.models", "Alarm", "raised_at"),
    ("wishes", "app.wishes", ("wish",), "app.wishes.models", "Wish", "created_at"),
    ("bookings", "app.clinic", ("clinic_booking",), "app.clinic.models", "Booking", "created_at"),
)


def daily(session: Session, presence: Presence, community_id: int, now: datetime) -> dict:
    """{"days": [30 ISO dates, oldest first], "series": {key: [count per day]}} for the installed features."""
    start = local_day_start(now, DAYS - 1)
    days = [(to_local(start) + timedelta(days=i)).date() for i in range(DAYS)]
    index = {day: i for i, day in enumerate(days)}
    series: dict[str, list[int]] = {}
    for key, feature, tables, module, model_name, column in SERIES:
        if not presence.has(feature, *tables):
            continue
        model = getattr(importlib.import_module(module), model_name)
        at = getattr(model, column)
        counts = Counter(to_local(value).date() for value in session.scalars(
            select(at).where(model.community_id == community_id, at >= start, at <= now)))
        values = [0] * DAYS
        for day, count in counts.items():
            if day in index:
                values[index[day]] = count
        series[key] = values
    return {"days": [d.isoformat() for d in days], "series": series}


def parking_hours(session: Session, community_id: int, now: datetime) -> dict:
    """Share of the community's parking spaces in use, averaged per hour over the last 24 hours (None: no data)."""
    from app.parking.models import ParkingZone, ZoneSample  # noqa: PLC0415

    zones = session.execute(select(ParkingZone.id, ParkingZone.fixed_capacity + ParkingZone.temporary_capacity)
                            .where(ParkingZone.community_id == community_id, ParkingZone.active.is_(True))).all()
    capacity = sum(c for _id, c in zones)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=24)
    sums: dict[tuple[int, int], list[int]] = {}
    if zones:
        for zone_id, bucket, fixed, temporary in session.execute(
                select(ZoneSample.zone_id, ZoneSample.bucket, ZoneSample.fixed_occupied, ZoneSample.temporary_occupied)
                .where(ZoneSample.zone_id.in_([z for z, _c in zones]), ZoneSample.bucket >= start,
                       ZoneSample.bucket < end)):
            hour = int((bucket - start).total_seconds() // 3600)
            sums.setdefault((hour, zone_id), []).append(fixed + temporary)
    per_hour: dict[int, float] = {}
    for (hour, _zone), values in sums.items():
        per_hour[hour] = per_hour.get(hour, 0.0) + sum(values) / len(values)
    labels = [to_local(start + timedelta(hours=h)).strftime("%H:00") for h in range(24)]
    shares = [round(100 * per_hour[h] / capacity, 1) if h in per_hour and capacity else None for h in range(24)]
    return {"hours": labels, "occupancy_pct": shares, "capacity": capacity}
