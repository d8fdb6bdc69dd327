"""The test clock: time-machine moves the product's one clock (app.core.clock.now) for a test.

Tests say when in the community's own day they happen ("tonight at 23:30", "tomorrow 10:00"),
relative to whatever today is, so no test depends on the calendar date it runs on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import time_machine

from app.core.clock import SHANGHAI, local_now, utcnow


def local_to_utc(day: date, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time on `day` as naive UTC (the form the database holds)."""
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC).replace(tzinfo=None)


class Clock:
    """Moves the clock; time keeps ticking from wherever it is put (so waits and timeouts work)."""

    def __init__(self, traveller: time_machine.Coordinates) -> None:
        self._traveller = traveller

    def at(self, hour: int, minute: int = 0, *, days: int = 0) -> datetime:
        """Go to hh:mm Shanghai time, `days` after today; returns that moment as naive UTC."""
        moment = local_to_utc(self.today() + timedelta(days=days), hour, minute)
        self.move_to(moment)
        return moment

    def move_to(self, moment: datetime) -> None:
        """Go to a moment (naive = UTC)."""
        self._traveller.move_to(moment if moment.tzinfo else moment.replace(tzinfo=UTC))

    def shift(self, delta: timedelta) -> None:
        """Move by delta (forwards or back)."""
        self._traveller.shift(delta)

    @staticmethod
    def today() -> date:
        """The community's date now."""
        return local_now().date()

    @staticmethod
    def now() -> datetime:
        """Now as naive UTC."""
        return utcnow()


def travel_from_now() -> time_machine.travel:
    """A ticking travel that starts at the real now; Clock moves it."""
    return time_machine.travel(datetime.now(UTC), tick=True)
