"""tickets: repairs and complaints (报事报修): reports from chat and the mini-program, dispatch,
rotation, SLAs, the staff queue, ratings and follow-ups.

Public surface: tickets (report, Location, resident_actor), dispatch, sla, models (Ticket).
"""

from __future__ import annotations

from flask import Flask

from app.chat import hooks, menu
from app.community.demo import add_step as add_seed_step
from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Ticket models, chat flow, console queue, API routes, SLA checks and demo tickets."""
    from app.tickets import api, chat, console, models  # noqa: F401, PLC0415 - flows and routes attach on import
    from app.tickets.demo import seed_tickets  # noqa: PLC0415

    hooks.add_safety_reaction(chat.urgent_repair)
    add_templates(app, __name__)
    periodic.every("app.tickets.jobs.check_sla", "default", interval=300)  # unaccepted past SLA; auto-close
    add_seed_step(seed_tickets)
    menu.add_line("repair", 10, "报修：如“3号楼电梯坏了”")
    menu.add_line("complaint", 20, "投诉：如“楼上半夜装修太吵”")
    menu.add_line("ticket_status", 80, "查进度：如“我报修的水管修好了没”")
