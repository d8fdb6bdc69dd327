"""Bookings: create, cancel, reschedule, list mine, the waitlist, check-in and the no-show sweep.

No overbooking: a seat is taken by one conditional UPDATE (`booked < capacity [- reserved]`), which
PostgreSQL re-checks on the locked row when requests race, and a CHECK keeps booked <= capacity.
No double booking: a partial unique index allows one active booking per (slot, resident).
Both run inside a savepoint, so a refused request leaves the caller's transaction usable.
No more than a service's active-bookings limit, and no clashing times, even when one resident's requests
race: a booking first locks the resident's row (FOR NO KEY UPDATE, held to commit), so the next request of
the same resident waits and then counts the bookings the first one committed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clinic.clinic import SERVICE_LABELS, colour_of
from app.clinic.models import ACTIVE_STATUSES, Booking, Slot, WaitlistEntry
from app.clinic.slots import bookable_window, seats_for, slot_label, slot_with_details
from app.community.models import Resident
from app.core.clock import to_local, utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.outbox import enqueue
from app.notify.notify import notify

STATUS_LABELS = {"booked": "已预约", "checked_in": "已签到", "completed": "已完成", "cancelled": "已取消",
                 "no_show": "未到诊"}
REMIND_JOB = "app.clinic.jobs.remind"
TEAM_ALERT_JOB = "app.clinic.jobs.alert_team"
REMINDERS = (("day", timedelta(days=1)), ("hour", timedelta(hours=1)))
NO_SHOW_GRACE = timedelta(minutes=15)
WAITLIST_TELL = 5  # waiting residents told when a seat frees


class SlotFull(Conflict):
    code, status, message = "slot_full", 409, "这个时段已约满，请选择其他时间，或登记候补"


class AlreadyBooked(Conflict):
    code, status, message = "already_booked", 409, "您已经预约了这个时段，不用重复预约"


def _now(now: datetime | None) -> datetime:
    return now if now is not None else utcnow()


def create_booking(session: Session, resident: Resident, slot_id: int, *, now: datetime | None = None,
                   source: str = "oa", note: str = "", replacing: Booking | None = None) -> Booking:
    """Take a seat in a slot for a resident; SlotFull when none is left, AlreadyBooked for a second try."""
    now = _now(now)
    slot = slot_with_details(session, slot_id)
    if slot is None or slot.community_id != resident.community_id:
        raise NotFound("没有这个预约时段", code="slot_not_found")
    service = slot.service
    earliest, latest = bookable_window(service, now)
    if slot.status != "open" or not service.active:
        raise ValidationFailed("这个时段已停止预约", code="slot_closed")
    if slot.starts_at < earliest:
        raise ValidationFailed(f"需要至少提前{service.min_notice_minutes}分钟预约，请选择更晚的时段",
                               code="too_late")
    if slot.starts_at > latest:
        raise ValidationFailed(f"最多只能预约{service.horizon_days}天内的时段", code="too_far")
    _lock_bookings_of(session, resident)
    mine = [b for b in active_bookings(session, resident, now=now) if replacing is None or b.id != replacing.id]
    if any(b.slot_id == slot.id for b in mine):
        raise AlreadyBooked()
    if sum(1 for b in mine if b.service_id == service.id) >= service.max_active_per_resident:
        raise Conflict(f"{service.name}最多同时预约{service.max_active_per_resident}个时段，"
                       "可以先取消不需要的预约", code="booking_limit")
    if any(b.starts_at < slot.ends_at and slot.starts_at < b.ends_at for b in mine):
        raise Conflict("这个时间您已经有别的预约了，请换一个时段", code="time_clash")
    red = colour_of(session, resident.id) == "red"
    limit = Slot.capacity if red else Slot.capacity - Slot.reserved
    try:
        with session.begin_nested():
            taken = session.execute(
                update(Slot).where(Slot.id == slot.id, Slot.status == "open", Slot.booked < limit)
                .values(booked=Slot.booked + 1).execution_options(synchronize_session=False)).rowcount
            if taken != 1:
                raise SlotFull()
            booking = Booking(community_id=resident.community_id, slot=slot, resident_id=resident.id,
                              service=service, status="booked", source=source, note=(note or "")[:300],
                              starts_at=slot.starts_at, ends_at=slot.ends_at, created_at=now,
                              rescheduled_from_id=replacing.id if replacing is not None else None)
            session.add(booking)
            session.flush()
    except IntegrityError:
        session.expire(slot)
        raise AlreadyBooked() from None
    except SlotFull:
        session.expire(slot)
        raise
    session.expire(slot, ["booked"])
    booking.number = f"YY{to_local(now):%y%m%d}{booking.id:04d}"
    _leave_waitlist(session, slot.id, resident.id, "booked")
    _schedule_reminders(session, booking, now)
    if service.code == "home_visit":  # a request to the household's own family-doctor team
        enqueue(session, TEAM_ALERT_JOB, booking.id, queue="high")
    session.flush()
    return booking


def _lock_bookings_of(session: Session, resident: Resident) -> None:
    """Take the resident's booking turn until commit: their other bookings wait, everyone else's go on.

    NO KEY UPDATE rather than UPDATE, so rows that merely point at the resident (messages, tickets) are
    not held up. SQLite has no row locks; it runs one writer at a time."""
    session.execute(select(Resident.id).where(Resident.id == resident.id).with_for_update(key_share=True)).all()


def _schedule_reminders(session: Session, booking: Booking, now: datetime) -> None:
    """Reminders the day before and one hour before, through the outbox (RQ's scheduler runs them)."""
    for which, before in REMINDERS:
        at = booking.starts_at - before
        if at > now:
            enqueue(session, REMIND_JOB, booking.id, which, queue="default", run_at=at)


def active_bookings(session: Session, resident: Resident, *, now: datetime | None = None) -> list[Booking]:
    """A resident's bookings that still hold a seat and have not ended, soonest first."""
    return list(session.scalars(select(Booking).where(
        Booking.resident_id == resident.id, Booking.status.in_(ACTIVE_STATUSES), Booking.ends_at > _now(now))
        .order_by(Booking.starts_at, Booking.id)))


def bookings_for_resident(session: Session, resident: Resident, *, upcoming: bool = False,
                          now: datetime | None = None, limit: int = 50) -> list[Booking]:
    """A resident's bookings: upcoming ones soonest first, or all of them newest first."""
    if upcoming:
        return active_bookings(session, resident, now=now)[:limit]
    return list(session.scalars(select(Booking).where(Booking.resident_id == resident.id)
                                .order_by(Booking.starts_at.desc(), Booking.id.desc()).limit(limit)))


def booking_for_resident(session: Session, booking_id: int, resident: Resident) -> Booking:
    """One of the resident's own bookings (anyone else's is not found)."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.resident_id != resident.id:
        raise NotFound("没有找到这个预约", code="booking_not_found")
    return booking


def cancel_booking(session: Session, booking: Booking, *, now: datetime | None = None) -> Booking:
    """Cancel a booking that has not started; its seat frees and the waitlist is told."""
    now = _now(now)
    if booking.status != "booked":
        raise Conflict(f"这个预约{STATUS_LABELS[booking.status]}，不能取消", code="not_cancellable")
    if booking.starts_at <= now:
        raise Conflict("预约时间已过，不能取消", code="not_cancellable")
    booking.status, booking.cancelled_at = "cancelled", now
    _free_seat(session, booking.slot_id)
    session.flush()
    tell_waitlist(session, booking.slot_id, now=now)
    return booking


def _free_seat(session: Session, slot_id: int) -> None:
    session.execute(update(Slot).where(Slot.id == slot_id, Slot.booked > 0).values(booked=Slot.booked - 1)
                    .execution_options(synchronize_session=False))
    slot = session.get(Slot, slot_id)
    if slot is not None:
        session.expire(slot, ["booked"])


def reschedule(session: Session, booking: Booking, new_slot_id: int, *, now: datetime | None = None,
               source: str = "oa") -> Booking:
    """Move a booking to another slot: the new seat is taken first, then the old one is given up."""
    now = _now(now)
    if booking.status != "booked" or booking.starts_at <= now:
        raise Conflict("这个预约不能再改期了", code="not_reschedulable")
    if new_slot_id == booking.slot_id:
        raise AlreadyBooked()
    new_slot = session.get(Slot, new_slot_id)
    if new_slot is not None and new_slot.service_id != booking.service_id:
        raise ValidationFailed("只能改到同一项目的其他时段", code="other_service")
    new = create_booking(session, booking.resident, new_slot_id, now=now, source=source, note=booking.note,
                         replacing=booking)
    booking.status, booking.cancelled_at = "cancelled", now
    _free_seat(session, booking.slot_id)
    session.flush()
    tell_waitlist(session, booking.slot_id, now=now)
    return new


# ---- waitlist ----------------------------------------------------------------------------------

def join_waitlist(session: Session, resident: Resident, slot_id: int, *, now: datetime | None = None) -> WaitlistEntry:
    """Wait for a seat in a full slot (joining twice returns the same entry)."""
    now = _now(now)
    slot = session.get(Slot, slot_id)
    if slot is None or slot.community_id != resident.community_id or slot.starts_at <= now:
        raise NotFound("没有这个预约时段", code="slot_not_found")
    if seats_for(slot, colour_of(session, resident.id) == "red") > 0:
        raise ValidationFailed("这个时段还有空位，可以直接预约", code="slot_not_full")
    entry = session.scalar(select(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id,
                                                       WaitlistEntry.resident_id == resident.id))
    if entry is None:
        entry = WaitlistEntry(slot_id=slot_id, resident_id=resident.id, status="waiting", created_at=now)
        session.add(entry)
    elif entry.status != "booked":
        entry.status = "waiting"
    session.flush()
    return entry


def _leave_waitlist(session: Session, slot_id: int, resident_id: int, status: str) -> None:
    entry = session.scalar(select(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id,
                                                       WaitlistEntry.resident_id == resident_id))
    if entry is not None:
        entry.status = status


def tell_waitlist(session: Session, slot_id: int, *, now: datetime | None = None) -> int:
    """A seat freed: tell the first waiting residents (whoever books first gets it); returns how many."""
    now = _now(now)
    slot = session.get(Slot, slot_id)
    if slot is None or slot.starts_at <= now:
        return 0
    waiting = list(session.scalars(select(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id,
                                                              WaitlistEntry.status == "waiting")
                                   .order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(WAITLIST_TELL)))
    for entry in waiting:
        notify(session, entry.resident_id, category="health", template="booking", now=now,
               text=f"您候补的{slot.service.name}（{slot_label(slot)}）有空位了，先到先得，"
                    f"回复“预约{SERVICE_LABELS.get(slot.service.code, slot.service.name)}”或在小程序里预约。",
               data={"slot_id": slot.id})
        entry.status, entry.notified_at = "notified", now
    session.flush()
    return len(waiting)


# ---- the day itself ----------------------------------------------------------------------------

def check_in(session: Session, booking: Booking, *, now: datetime | None = None) -> Booking:
    """The resident arrived."""
    if booking.status != "booked":
        raise Conflict("只有已预约的可以签到", code="bad_status")
    booking.status, booking.checked_in_at = "checked_in", _now(now)
    session.flush()
    return booking


def complete(session: Session, booking: Booking, *, now: datetime | None = None) -> Booking:
    """The service was given."""
    if booking.status not in ACTIVE_STATUSES:
        raise Conflict("这个预约不能标记完成", code="bad_status")
    booking.status, booking.completed_at = "completed", _now(now)
    session.flush()
    return booking


def mark_no_shows(session: Session, *, now: datetime | None = None) -> int:
    """Bookings still only `booked` 15 minutes after their slot ended become no_show; returns how many."""
    now = _now(now)
    late = list(session.scalars(select(Booking).where(Booking.status == "booked",
                                                      Booking.ends_at < now - NO_SHOW_GRACE).limit(1000)))
    for booking in late:
        booking.status, booking.no_show_at = "no_show", now
    session.flush()
    return len(late)


def booked_count(session: Session, slot_id: int) -> int:
    """Active bookings of a slot, counted from the bookings themselves (for checks)."""
    return session.scalar(select(func.count()).select_from(Booking).where(
        Booking.slot_id == slot_id, Booking.status.in_(ACTIVE_STATUSES))) or 0


def reminder_text(booking: Booking, which: str) -> str:
    """The reminder message."""
    when = "明天" if which == "day" else "1小时后"
    return (f"预约提醒：您{when}有{booking.service.name}预约（{slot_label(booking.slot)}），预约号{booking.number}。"
            "请准时到达；不能来请提前回复“取消预约”。")


def send_reminder(session: Session, booking: Booking, which: str, *, now: datetime | None = None) -> bool:
    """The day-before or hour-before reminder, through notify (category health), at most once."""
    now = _now(now)
    column = {"day": "reminded_day_at", "hour": "reminded_hour_at"}.get(which)
    if column is None or booking.status != "booked" or booking.starts_at <= now or getattr(booking, column):
        return False
    notify(session, booking.resident_id, category="health", template="booking", text=reminder_text(booking, which),
           data={"booking": booking.number, "service": booking.service.name,
                 "time": to_local(booking.starts_at).strftime("%m-%d %H:%M")}, now=now)
    setattr(booking, column, now)
    session.flush()
    return True
