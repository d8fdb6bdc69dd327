"""The cockpit's privacy rule: a count of residents below the minimum group size is shown as "<5", never exact.

It applies to every count that describes people (residents, households, age bands, living alone, health
colours, clinic bookings, welfare checks); operational counts (tickets, alarms, spaces) are shown as they are.
Zero is shown (nobody is described by it). In a breakdown whose total is visible, one hidden cell could be
worked out by subtraction, so the next smallest cell is hidden too (secondary suppression).
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_MIN_GROUP = 5


def min_group(config: Mapping) -> int:
    """The minimum group size from COCKPIT_MIN_GROUP_SIZE (5 when unset; never below 2)."""
    try:
        return max(2, int(config.get("COCKPIT_MIN_GROUP_SIZE") or DEFAULT_MIN_GROUP))
    except (TypeError, ValueError):
        return DEFAULT_MIN_GROUP


def hidden(size: int) -> str:
    """What a suppressed count reads as."""
    return f"<{size}"


def count(value: int, size: int) -> int | str:
    """A count of people as it may be shown."""
    return value if value == 0 or value >= size else hidden(size)


def breakdown(values: Mapping[str, int], size: int) -> dict[str, int | str]:
    """A breakdown of people (e.g. by age band) as it may be shown, with secondary suppression."""
    out: dict[str, int | str] = {key: count(value, size) for key, value in values.items()}
    suppressed = [key for key, value in values.items() if 0 < value < size]
    if len(suppressed) == 1:
        rest = sorted((value, key) for key, value in values.items() if value >= size)
        if rest:
            out[rest[0][1]] = f"≥{size}"  # hidden with it: only "at least the group size"
    return out
