"""Time helpers: the database stores naive UTC; residents see Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now as naive UTC, the form every timestamp column holds."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(value: datetime) -> datetime:
    """A stored naive-UTC time as an aware Asia/Shanghai time."""
    return value.replace(tzinfo=UTC).astimezone(SHANGHAI)


def local_now() -> datetime:
    """Now in Asia/Shanghai, aware."""
    return datetime.now(SHANGHAI)
