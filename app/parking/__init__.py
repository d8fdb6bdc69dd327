"""parking: zones and their live counts from cameras and gateways, answers to 还有车位吗, messages
to a car's owner by plate (挪车), plates claimed by more than one household (disputes, settled by staff),
the staff's zone pages and device setup.

Public surface: parking (availability), ingest (record_report), car_notices, disputes, models (ParkingZone).
"""

from __future__ import annotations

from flask import Flask

from app.chat import hooks, menu
from app.community.demo import add_step as add_seed_step
from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Parking models, chat flow, console pages, API and device routes, pruning and the demo lots."""
    from app.parking import (  # noqa: F401, PLC0415 - flows and routes attach on import
        api,
        chat,
        console,
        device_api,
        models,
        setup_console,
    )
    from app.parking.car_notices import owner_reply  # noqa: PLC0415
    from app.parking.demo import seed_parking  # noqa: PLC0415

    hooks.add_early_reply(owner_reply)
    hooks.add_fallback(6, chat.notice_settled)  # 算了他已经开走了 after a notice: acknowledged, not a miss
    add_templates(app, __name__)
    periodic.every("app.parking.jobs.prune_events", "low", interval=3600)  # ~100 reports/s would pile up
    if app.config.get("LINLI_ENV") == "development" and not app.config.get("TESTING"):
        periodic.every("app.parking.jobs.feed_demo_counts", "low", interval=60)  # make run's camera feed
    add_seed_step(seed_parking)
    menu.add_line("parking_query", 40, "查车位：如“30幢还有临时车位吗”")
    menu.add_line("car_notice", 50, "挪车：如“浙A12345挡住出口了请挪车”")
