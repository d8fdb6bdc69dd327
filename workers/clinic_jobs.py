"""Clinic jobs: booking reminders (scheduled at run_at through the outbox and RQ's scheduler) and the
periodic no-show sweep."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.clinic import Booking, ScheduleTemplate
from app.services import bookings
from app.services.clinic_slots import generate_slots
from app.timeutil import local_now, utcnow
from workers.context import job

log = logging.getLogger(__name__)


@job
def remind(session: Session, booking_id: int, which: str) -> bool:
    """Send the day-before or hour-before reminder once, if the booking still stands; True when sent."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        return False
    return bookings.send_reminder(session, booking, which, now=utcnow())


@job
def mark_no_shows(session: Session) -> int:
    """Bookings never checked in 15 minutes after their slot ended become no-shows."""
    marked = bookings.mark_no_shows(session, now=utcnow())
    if marked:
        log.info("marked %d clinic booking(s) as no-show", marked)
    return marked


@job
def top_up_slots(session: Session, days: int = 21) -> int:
    """Generate the coming `days` days of slots from every community's weekly templates (missing ones only)."""
    communities = session.scalars(select(ScheduleTemplate.community_id).distinct())
    return sum(generate_slots(session, cid, local_now().date(), days) for cid in list(communities))
