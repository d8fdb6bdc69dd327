"""Activity jobs (periodic): the day-before reminders, expiring unconfirmed promotions, and clubs' sessions."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.activities import clubs, signups
from app.core.clock import utcnow
from workers.context import job

log = logging.getLogger(__name__)


@job
def send_reminders(session: Session) -> int:
    """Remind every confirmed sign-up of an activity starting within 24 hours, once."""
    return signups.send_reminders(session, now=utcnow())


@job
def expire_offers(session: Session) -> int:
    """Promotions not confirmed by their deadline lapse; the seat is offered to the next in line."""
    expired = signups.expire_offers(session, now=utcnow())
    if expired:
        log.info("expired %d unconfirmed activity offer(s)", expired)
    return expired


@job
def generate_sessions(session: Session) -> int:
    """The coming two weeks of every club's recurring sessions (missing ones only)."""
    return clubs.generate_all(session, now=utcnow())
