"""escalations (转人工): a conversation handed to a person: the staff queue of escalations, taking over a
conversation, canned replies, SLAs in business hours, WeChat Work alerts and answers (/wecom).

Public surface: escalations (escalate, claim, resolve, withdraw), chat (intercept, fallback: the chat turn),
replies (what the resident is told), queue, canned_replies.
"""

from __future__ import annotations

from flask import Flask

from app.chat import hooks
from app.community.demo import add_step as add_seed_step
from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Escalation models, the staff queue, the /wecom door, SLA checks and the demo's canned replies."""
    from app.escalations import console, models  # noqa: F401, PLC0415 - routes attach on import
    from app.escalations.business_hours import configure  # noqa: PLC0415
    from app.escalations.canned_replies import seed_canned_replies  # noqa: PLC0415
    from app.escalations.chat import chat_fallback, intercept  # noqa: PLC0415
    from app.escalations.wecom import bp  # noqa: PLC0415

    configure(app.config)  # what residents are told about staff hours follows ESCALATION_BUSINESS_*
    hooks.add_interceptor(intercept)
    hooks.add_fallback(20, chat_fallback)
    add_templates(app, __name__)
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    periodic.every("app.escalations.jobs.check_sla", "default", interval=60)  # breaches go to a supervisor
    # held conversations nobody touched for ESCALATION_IDLE_RETURN_HOURS go back to the bot
    periodic.every("app.escalations.jobs.return_idle", "default", interval=600)
    add_seed_step(seed_canned_replies)
