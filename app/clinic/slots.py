"""Slots: generated from the weekly schedule templates, and the free ones nearest a wanted time.

A slot is bookable when it is open, has a free seat for this resident (reserved seats only for
red-colour residents), starts at least the service's minimum notice from now and no further ahead
than its booking horizon. Times are stored as naive UTC; templates speak Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload

from app.clinic.clinic import colour_of, team_for_household
from app.clinic.models import ClinicService, Provider, ScheduleTemplate, Slot
from app.community.models import Resident
from app.core.clock import SHANGHAI, to_local

PERIOD_CENTRES = {"morning": time(9, 0), "afternoon": time(14, 30), "evening": time(19, 0)}
PERIOD_RANGES = {"morning": (time(0, 0), time(12, 0)), "afternoon": (time(12, 0), time(18, 0)),
                 "evening": (time(18, 0), time(23, 59))}
WEEKDAYS = "一二三四五六日"


def local_to_utc(day: date, at: time) -> datetime:
    """A Shanghai wall-clock time as naive UTC."""
    return datetime.combine(day, at, tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def _hm(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


def generate_slots(session: Session, community_id: int, start: date, days: int) -> int:
    """Create the missing slots of every active template from start for `days` days; returns how many."""
    templates = list(session.scalars(select(ScheduleTemplate).where(ScheduleTemplate.community_id == community_id,
                                                                    ScheduleTemplate.active.is_(True))))
    if not templates:
        return 0
    first, last = local_to_utc(start, time(0, 0)), local_to_utc(start + timedelta(days=days), time(0, 0))
    existing = set(session.execute(
        select(Slot.provider_id, Slot.service_id, Slot.starts_at)
        .where(Slot.community_id == community_id, Slot.starts_at >= first, Slot.starts_at < last)).all())
    rows = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        for tpl in templates:
            if tpl.weekday != day.weekday():
                continue
            at, end = local_to_utc(day, _hm(tpl.start)), local_to_utc(day, _hm(tpl.end))
            step = timedelta(minutes=max(5, tpl.slot_minutes))
            while at + step <= end:
                if (tpl.provider_id, tpl.service_id, at) not in existing:
                    rows.append({"community_id": community_id, "service_id": tpl.service_id,
                                 "provider_id": tpl.provider_id, "place_id": tpl.place_id, "template_id": tpl.id,
                                 "starts_at": at, "ends_at": at + step, "capacity": tpl.capacity, "booked": 0,
                                 "reserved": min(tpl.reserved, tpl.capacity), "status": "open"})
                    existing.add((tpl.provider_id, tpl.service_id, at))
                at += step
    if rows:  # one bulk insert: three weeks of a clinic's schedule is a few thousand rows
        session.execute(insert(Slot), rows)
    created = len(rows)
    return created


def service_by_code(session: Session, community_id: int, code: str) -> ClinicService | None:
    """The community's active service with this contract id."""
    return session.scalar(select(ClinicService).where(ClinicService.community_id == community_id,
                                                      ClinicService.code == code, ClinicService.active.is_(True)))


def bookable_window(service: ClinicService, now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest start a booking may have now (naive UTC)."""
    return now + timedelta(minutes=service.min_notice_minutes), now + timedelta(days=service.horizon_days)


def seats_for(slot: Slot, red: bool) -> int:
    """Free seats this resident may take (red residents may also take reserved ones)."""
    return max(0, slot.capacity - slot.booked - (0 if red else slot.reserved))


def open_slots(session: Session, resident: Resident, service: ClinicService, now: datetime, *,
               free_only: bool = True) -> list[Slot]:
    """The slots of a service this resident may book now, by start time (home visits: their own team)."""
    earliest, latest = bookable_window(service, now)
    query = (select(Slot).where(Slot.service_id == service.id, Slot.status == "open", Slot.starts_at >= earliest,
                                Slot.starts_at <= latest).order_by(Slot.starts_at, Slot.id))
    if service.code == "home_visit":
        team = team_for_household(session, resident.household_id)
        query = query.join(Provider, Slot.provider_id == Provider.id).where(
            Provider.team_id == (team.id if team is not None else -1))
    slots = list(session.scalars(query))
    if not free_only:
        return slots
    red = colour_of(session, resident.id) == "red"
    return [s for s in slots if seats_for(s, red) > 0]


@dataclass(frozen=True)
class Wanted:
    """When a resident would like to come: any of these may be missing."""

    day: date | None = None
    period: str | None = None  # morning | afternoon | evening
    at: time | None = None

    def target(self, now: datetime) -> datetime:
        """The wanted moment as naive UTC (now when nothing was said)."""
        if self.day is None and self.at is None and self.period is None:
            return now
        day = self.day or to_local(now).date()
        at = self.at or PERIOD_CENTRES.get(self.period or "", time(9, 0))
        return local_to_utc(day, at)

    def matches(self, slot: Slot) -> bool:
        """Whether a slot is on the asked day and in the asked part of the day."""
        local = to_local(slot.starts_at)
        if self.day is not None and local.date() != self.day:
            return False
        if self.period in PERIOD_RANGES:
            low, high = PERIOD_RANGES[self.period]
            return low <= local.time() < high
        return True


def wanted_from(slots: dict) -> Wanted:
    """Wanted from the NLU slots (date ISO, period, time HH:MM); bad values are ignored."""
    try:
        day = date.fromisoformat(slots["date"]) if slots.get("date") else None
    except ValueError:
        day = None
    try:
        at = _hm(slots["time"]) if slots.get("time") else None
    except (ValueError, AttributeError):
        at = None
    period = slots.get("period") if slots.get("period") in PERIOD_CENTRES else None
    return Wanted(day, period, at)


def nearest(slots: list[Slot], wanted: Wanted, now: datetime, limit: int = 5) -> list[Slot]:
    """The slots nearest the wanted time (the ones matching day and period first), shown by time."""
    target = wanted.target(now)
    ranked = sorted(slots, key=lambda s: (not wanted.matches(s), abs((s.starts_at - target).total_seconds()),
                                          s.id))
    return sorted(ranked[:limit], key=lambda s: (s.starts_at, s.id))


def slot_with_details(session: Session, slot_id: int) -> Slot | None:
    """A slot with its service, doctor and room, in one statement (what a booking and its label need)."""
    return session.get(Slot, slot_id, options=(joinedload(Slot.service), joinedload(Slot.provider),
                                               joinedload(Slot.place)))


def slot_label(slot: Slot, now: datetime | None = None) -> str:
    """12月3日（周三）09:30，陈文医生，社区卫生站2诊室."""
    local = to_local(slot.starts_at)
    day = f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）"
    if now is not None:
        today = to_local(now).date()
        names = {today: "今天", today + timedelta(days=1): "明天", today + timedelta(days=2): "后天"}
        if local.date() in names:
            day = f"{names[local.date()]} {day}"
    return f"{day}{local:%H:%M}，{slot.provider.name}，{slot.place.name}"
