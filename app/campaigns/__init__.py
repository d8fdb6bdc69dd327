"""campaigns (群发): targeted pushes to an audience expression over tags (building:30 AND age>=60),
scheduled, fanned out in batches on the best channel per resident, with progress and cancelling.

Public surface: campaigns (create_draft, schedule, cancel, progress), audience (count, preview).
"""

from __future__ import annotations

from flask import Flask

from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Campaign models, console pages and the reaper of sends a crashed worker left."""
    from app.campaigns import console, models  # noqa: F401, PLC0415 - routes attach on import

    add_templates(app, __name__)
    periodic.every("app.campaigns.jobs.reap_stuck_deliveries", "low", interval=600)
