"""Clinic jobs: booking reminders (scheduled at run_at through the outbox and RQ's scheduler) and the
periodic no-show sweep."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clinic import bookings, clinic
from app.clinic.models import Booking, ScheduleTemplate
from app.clinic.slots import generate_slots
from app.community.models import Resident
from app.core.clock import local_now, to_local, utcnow
from app.wechat import send_wecom_text
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
def alert_emergency(session: Session, resident_id: int, text: str) -> list[str]:
    """Tell the family-doctor team of a resident's household (or, unsigned, the doctors whose buildings
    include it) that someone there called for help; returns the WeChat Work ids told."""
    resident = session.get(Resident, resident_id)
    if resident is None or resident.household is None:
        return []
    ids = [doctor.wecom_userid for doctor in clinic.doctors_for_household(session, resident.household)
           if doctor.wecom_userid]
    if not ids:
        return []
    text = (f"【紧急求助】{resident.name}（{resident.household.label}，{resident.phone}）刚在社区公众号求助："
            f"“{text[:60]}”。已提醒其先拨打120，物业值班人员也已收到。请尽快电话联系。")
    return ids if send_wecom_text(current_app._get_current_object(), ids, text) else []


@job
def alert_team(session: Session, booking_id: int) -> list[str]:
    """Tell the household's family-doctor team of a home-visit request on WeChat Work (the doctor's
    console lists it in any case); returns the WeChat Work ids told."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status != "booked":
        return []
    resident = booking.resident
    team = clinic.team_for_household(session, resident.household_id)
    ids = [m.staff.wecom_userid for m in (team.members if team else []) if m.staff.wecom_userid and m.staff.active]
    if not ids:
        return []
    address = resident.household.label if resident.household else ""
    when = to_local(booking.starts_at).strftime("%m月%d日 %H:%M")
    note = f"，备注：{booking.note}" if booking.note else ""
    text = f"【家庭医生上门】{resident.name}（{address}）预约了{when}的上门服务{note}。请在工作台查看。"
    return ids if send_wecom_text(current_app._get_current_object(), ids, text) else []


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
