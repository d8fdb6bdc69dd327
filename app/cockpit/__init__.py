"""cockpit (数字驾驶舱): one screen of a community's figures, live alarms and escalations, and charts (Apache
ECharts, served from the project); a wall-screen mode opened with a revocable display token; and the street
(街道) view, where a street admin sees its communities side by side and drills into one.

Figures come from a snapshot row per community that a periodic job refreshes every 30 s; the page reads
that row and never runs the queries. Counts of people below the minimum group size show as "<5".

Public surface: snapshots (compute, refresh, refresh_all, load), board (community_board, street_board),
privacy (count, breakdown, min_group), plan (building_status, RULE_ZH), live (stream, Cursor), tokens (create,
revoke, find), streets (visible_communities, ensure_street), models (Street, StreetCommunity, StreetAdmin,
DisplayToken, Snapshot).
"""

from __future__ import annotations

from flask import Flask

from app.community.demo import add_step as add_seed_step
from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Cockpit models, console pages, the wall screen and its static files, the snapshot job, the demo."""
    from app.cockpit import console, models  # noqa: F401, PLC0415 - console pages attach on import
    from app.cockpit.demo import seed_cockpit  # noqa: PLC0415
    from app.cockpit.snapshots import REFRESH_EVERY_SECONDS  # noqa: PLC0415
    from app.cockpit.wall import bp  # noqa: PLC0415

    if "cockpit" not in app.blueprints:
        app.register_blueprint(bp)
    add_templates(app, __name__)
    periodic.every("app.cockpit.jobs.refresh_snapshots", "default", interval=REFRESH_EVERY_SECONDS)
    add_seed_step(seed_cockpit)
