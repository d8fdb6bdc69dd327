"""Device jobs: page an alarm's staff (WeChat Work card), the command sweep, alarm escalation and expiry,
and marking silent devices offline."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.devices import alarms, commands, liveness, routing
from app.devices.models import Alarm
from app.wechat.calls import send_wecom_card
from workers.context import job

log = logging.getLogger(__name__)


@job
def page_alarm(session: Session, alarm_id: int, kind: str = "raised") -> int:
    """Send the alarm's card to the staff in scope (and the admins once escalated); returns how many."""
    alarm = session.get(Alarm, alarm_id)
    now = utcnow()
    if alarm is None or not routing.wants_page(alarm, kind, now):
        return 0
    staff = routing.recipients(session, alarm, escalated=kind != "raised")
    user_ids = [s.wecom_userid for s in staff if s.wecom_userid]
    sent = send_wecom_card(current_app, user_ids, routing.card(alarm, kind))
    routing.record_page(session, alarm, staff, sent, now)
    return len(user_ids) if sent else 0


@job
def sweep_commands(session: Session) -> dict:
    """Send unacknowledged commands again or time them out."""
    return commands.sweep(session, utcnow())


@job
def check_alarms(session: Session) -> list[int]:
    """Lift expired shelving and suppression; escalate and remind about unacknowledged alarms."""
    now = utcnow()
    alarms.end_expired(session, now)
    config = current_app.config
    return routing.escalate_due(session, now, urgent_minutes=int(config.get("ALARM_ESCALATE_URGENT_MINUTES", 5)),
                                minutes=int(config.get("ALARM_ESCALATE_MINUTES", 30)))


@job
def mark_offline(session: Session) -> list[int]:
    """Mark devices silent past their limit offline (raising device_offline)."""
    return liveness.mark_offline(session, utcnow(),
                                 silence_s=int(current_app.config.get("DEVICE_OFFLINE_SECONDS",
                                                                      liveness.DEFAULT_SILENCE)))
