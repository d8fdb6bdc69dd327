"""Periodic jobs, registered by the features at init_app and collected by workers/cron.

One registration serves both modes: `flask cron` loads them into RQ's CronScheduler on Redis, and
the embedded ticker of `make run` runs the same ones in-process.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    """A job (by dotted name) to run every `interval` seconds or on a cron line (server local time)."""

    func: str
    queue: str
    interval: int | None = None
    cron: str | None = None


_registry: dict[str, Periodic] = {}


def every(func: str, queue: str, *, interval: int | None = None, cron: str | None = None) -> None:
    """Run `func` periodically; registering the same name again replaces it (init_app may run twice)."""
    if (interval is None) == (cron is None):
        raise ValueError("give exactly one of interval and cron")
    _registry[func] = Periodic(func, queue, interval, cron)


def registered() -> list[Periodic]:
    """Every periodic job, in registration order."""
    return list(_registry.values())
