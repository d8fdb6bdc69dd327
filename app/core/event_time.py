"""When a device says something happened: the one reading of event times for every device door (parking
counters, cameras, sensors, locks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.core.errors import ValidationFailed

FUTURE_SKEW = timedelta(minutes=2)  # a device clock this far ahead of ours is refused


def event_time(value, now: datetime) -> datetime:
    """An event time as naive UTC: ISO 8601 with an offset, or Unix seconds; a bad or future one is refused
    with a message the device's installer can act on."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            at = datetime.fromtimestamp(value, UTC)
        elif isinstance(value, str):
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if at.tzinfo is None:
                raise ValueError("no offset")
        else:
            raise ValueError("not a time")
    except (ValueError, OverflowError, OSError) as exc:
        raise ValidationFailed("事件时间 at 应为带时区的 ISO 8601 时间或 Unix 秒", code="invalid_field",
                               details={"field": "at"}) from exc
    at = at.astimezone(UTC).replace(tzinfo=None)
    if at > now + FUTURE_SKEW:
        raise ValidationFailed("事件时间晚于当前时间，请校准设备时间", code="future_event", details={"field": "at"})
    return at
