"""Business hours and SLA targets: first-response and resolution due times counted in working minutes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from app.core.clock import SHANGHAI

MAX_DAYS = 60  # a calendar with no working time at all must not loop forever


@dataclass(frozen=True)
class BusinessHours:
    """Working days (0 = Monday) and daily opening times, Asia/Shanghai; SLA targets in working minutes.

    Urgent escalations (safety words) are measured in wall-clock minutes: a fire does not wait for Monday.
    """

    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    start: time = time(8, 0)
    end: time = time(20, 0)
    first_response_minutes: int = 30
    resolution_minutes: int = 8 * 60
    urgent_first_response_minutes: int = 5
    urgent_resolution_minutes: int = 60


DEFAULT = BusinessHours()
_configured: list[BusinessHours] = []  # set by init_app from the app's config (the chat hooks get no settings)


def configure(config: Mapping[str, Any]) -> BusinessHours:
    """Read the hours from app config once (init_app); current() returns them from then on."""
    _configured[:] = [from_config(config)]
    return _configured[0]


def current() -> BusinessHours:
    """The hours init_app read from config, else DEFAULT."""
    return _configured[0] if _configured else DEFAULT


def _hhmm(value: Any, default: time) -> time:
    if isinstance(value, time):
        return value
    try:
        hour, minute = str(value).split(":")
        return time(int(hour), int(minute))
    except (ValueError, TypeError):
        return default


def from_config(config: Mapping[str, Any]) -> BusinessHours:
    """Business hours from app config (ESCALATION_BUSINESS_DAYS "0-4" or "0,1,2", ESCALATION_BUSINESS_START
    "08:30", ESCALATION_BUSINESS_END "17:30", ESCALATION_FIRST_RESPONSE_MINUTES, ESCALATION_RESOLUTION_MINUTES,
    ESCALATION_URGENT_FIRST_RESPONSE_MINUTES, ESCALATION_URGENT_RESOLUTION_MINUTES); unset keys keep DEFAULT."""
    days = config.get("ESCALATION_BUSINESS_DAYS")
    parsed_days = DEFAULT.days
    if days:
        spec = str(days)
        if "-" in spec:
            lo, hi = (int(x) for x in spec.split("-", 1))
            parsed_days = tuple(range(lo, hi + 1))
        else:
            parsed_days = tuple(int(x) for x in spec.split(",") if x.strip())
    return BusinessHours(
        days=parsed_days,
        start=_hhmm(config.get("ESCALATION_BUSINESS_START"), DEFAULT.start),
        end=_hhmm(config.get("ESCALATION_BUSINESS_END"), DEFAULT.end),
        first_response_minutes=int(config.get("ESCALATION_FIRST_RESPONSE_MINUTES") or DEFAULT.first_response_minutes),
        resolution_minutes=int(config.get("ESCALATION_RESOLUTION_MINUTES") or DEFAULT.resolution_minutes),
        urgent_first_response_minutes=int(config.get("ESCALATION_URGENT_FIRST_RESPONSE_MINUTES")
                                          or DEFAULT.urgent_first_response_minutes),
        urgent_resolution_minutes=int(config.get("ESCALATION_URGENT_RESOLUTION_MINUTES")
                                      or DEFAULT.urgent_resolution_minutes),
    )


def to_local(at_utc: datetime) -> datetime:
    """A naive-UTC moment as aware Asia/Shanghai time."""
    return at_utc.replace(tzinfo=UTC).astimezone(SHANGHAI)


_local = to_local


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def is_open(hours: BusinessHours, at_utc: datetime) -> bool:
    """Whether a naive-UTC moment falls within business hours."""
    local = _local(at_utc)
    return local.weekday() in hours.days and hours.start <= local.time() < hours.end


def add_business_minutes(hours: BusinessHours, start_utc: datetime, minutes: int) -> datetime:
    """The naive-UTC moment `minutes` working minutes after start_utc (time outside hours does not count)."""
    local = _local(start_utc)
    left = timedelta(minutes=minutes)
    for _ in range(MAX_DAYS * 2):
        day = local.date()
        opens = datetime.combine(day, hours.start, tzinfo=SHANGHAI)
        closes = datetime.combine(day, hours.end, tzinfo=SHANGHAI)
        if local.weekday() in hours.days and local < closes:
            begin = max(local, opens)
            if begin + left <= closes:
                return _utc(begin + left)
            left -= closes - begin
        local = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=SHANGHAI)
    return _utc(local + left)  # no working time configured: count wall-clock time


def next_opening(hours: BusinessHours, at_utc: datetime) -> datetime:
    """at_utc itself when staff are at work, else the naive-UTC moment they next start."""
    return add_business_minutes(hours, at_utc, 0)


def due_times(hours: BusinessHours, created_utc: datetime, *, urgent: bool) -> tuple[datetime, datetime]:
    """(first_response_due, resolution_due) for an escalation opened at created_utc."""
    if urgent:
        return (created_utc + timedelta(minutes=hours.urgent_first_response_minutes),
                created_utc + timedelta(minutes=hours.urgent_resolution_minutes))
    return (add_business_minutes(hours, created_utc, hours.first_response_minutes),
            add_business_minutes(hours, created_utc, hours.resolution_minutes))
