"""wishes (心愿): residents wish for a facility or service, neighbours support it, the committee
reviews it, milestones show progress, and the catalogue of facilities is rated.

Public surface: wishes (create, support, follow), review, withdraw, catalogue, models (Wish).
"""

from __future__ import annotations

from flask import Flask

from app.chat import hooks, menu
from app.community.demo import add_step as add_seed_step
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Wish models, chat flow, console pages, API routes and demo wishes."""
    from app.wishes import api, chat, console, models  # noqa: F401, PLC0415 - flows and routes attach on import
    from app.wishes.demo import seed_wishes  # noqa: PLC0415

    hooks.add_fallback(10, chat.weak_fallback)
    add_templates(app, __name__)
    add_seed_step(seed_wishes)
    menu.add_line("wish", 30, "心愿：如“希望小区装个自助打印机”")
