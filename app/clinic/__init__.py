"""clinic: the community health station: services, schedules and slots, bookings (chat, mini-program,
console), family-doctor teams, health records and colours, no-shows and reminders.

Public surface: clinic (health data access), slots (open_slots, generate_slots), bookings (book, cancel),
models (Booking, Slot).
"""

from __future__ import annotations

from flask import Flask

from app.chat import menu
from app.community import health_access
from app.community.demo import add_step as add_seed_step
from app.community.tags import add_rule
from app.core import periodic
from app.core.features import add_templates
from console.nav import add_nav


def init_app(app: Flask) -> None:
    """Clinic models, chat flows, the doctors' console, the health-data access log for admins, API routes,
    periodic jobs and the demo clinic; and who may read health data, for the features that ask."""
    from app.chat import hooks  # noqa: PLC0415
    from app.clinic import api, chat, console, models  # noqa: F401, PLC0415 - flows and routes attach on import
    from app.clinic.chat_reschedule import reschedule_fallback  # noqa: PLC0415

    hooks.add_fallback(5, reschedule_fallback)  # 改到下午行不行: the parser has no reschedule intent
    hooks.add_safety_reaction(chat.alert_family_doctor)  # 我妈摔倒了起不来: the family doctor hears of it
    from app.clinic.clinic import HEALTH_ACCESS, HEALTH_TAGS  # noqa: PLC0415
    from app.clinic.demo import seed_clinic  # noqa: PLC0415

    add_rule(HEALTH_TAGS)
    health_access.set_rule(HEALTH_ACCESS)  # who may read health data, asked by campaign audiences
    add_nav("console.health_access_log", "健康数据访问记录", ("admin",))
    add_templates(app, __name__)
    periodic.every("app.clinic.jobs.mark_no_shows", "low", interval=600)  # never checked in: no-show
    periodic.every("app.clinic.jobs.top_up_slots", "low", interval=21600)  # 3 weeks of slots from templates
    add_seed_step(seed_clinic)
    menu.add_line("booking", 60, "预约社区诊所：如“预约明天上午测血压”")
