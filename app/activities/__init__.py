"""activities (邻里活动): interest clubs (members with roles, recurring sessions, notices), activities with
sign-up that cannot overbook, a waitlist that promotes by itself, check-in, stewards signing up residents
without phones, day-before reminders, feedback, chat flows, and announcing an activity through campaigns.

Public surface: activities (create_activity, upcoming, set_capacity, cancel_activity), signups (sign_up,
cancel, promote, confirm_offer, expire_offers, check_in, leave_feedback, send_reminders), clubs (create_club,
join, leave, notice, generate_sessions), announce (announce), models (Club, ClubMember, Activity, Signup).
"""

from __future__ import annotations

from flask import Flask

from app.chat import hooks, menu
from app.community.demo import add_step as add_seed_step
from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Models, chat flows and answers, console pages, API routes, periodic jobs and the demo clubs."""
    from app.activities import api, chat, console, models  # noqa: F401, PLC0415 - flows and routes attach on import
    from app.activities.demo import seed_activities  # noqa: PLC0415

    hooks.add_early_reply(chat.confirm_offer_reply)  # 确认参加: take a seat offered from the waitlist
    add_templates(app, __name__)
    periodic.every("app.activities.jobs.send_reminders", "default", interval=900)  # the day before
    periodic.every("app.activities.jobs.expire_offers", "default", interval=60)  # promotions not confirmed
    periodic.every("app.activities.jobs.generate_sessions", "low", interval=21600)  # clubs' coming sessions
    add_seed_step(seed_activities)
    menu.add_line("activity", 65, "社区活动：如“这周末有什么活动”“报名周六的书法课”")
