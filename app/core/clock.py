"""The one clock. Every "now" in the product comes from `now()` here; the database stores naive
UTC and residents see Asia/Shanghai. Tests move this clock with time-machine (tests/clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Now, aware UTC: the source every other helper here derives from."""
    return datetime.now(UTC)


def utcnow() -> datetime:
    """Now as naive UTC, the form every timestamp column holds."""
    return now().replace(tzinfo=None)


def local_now() -> datetime:
    """Now in Asia/Shanghai, aware."""
    return now().astimezone(SHANGHAI)


def unix_seconds() -> float:
    """Now as Unix seconds (signed requests, session ages)."""
    return now().timestamp()


def to_local(value: datetime) -> datetime:
    """A stored naive-UTC time as an aware Asia/Shanghai time."""
    return value.replace(tzinfo=UTC).astimezone(SHANGHAI)
