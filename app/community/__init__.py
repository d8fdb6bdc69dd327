"""community: where people live and who they are (buildings, units, households, residents, staff,
tags), the roster import, the system tags kept current, and the demo community's seed steps.

Public surface: models (Community, Building, Unit, Household, Resident, Staff, Tag), staff
(authenticate, scopes), roster (import_roster), tags (refresh_all, add_rule), demo (add_step, seed_demo).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The community's models, commands and the residents page."""
    from app.community import cli, models, staff_cli  # noqa: F401, PLC0415 - models register their tables

    cli.init_app(app)
    staff_cli.init_app(app)
