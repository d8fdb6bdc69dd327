"""Bookings: seats, limits, notice and horizon, cancel and reschedule, the waitlist, and the race for the last seat."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from clinic_world import build_clinic
from sqlalchemy import func, select

from app.clinic import bookings
from app.clinic.models import Booking, HealthRecord, Slot, WaitlistEntry
from app.community.models import Resident
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import AppError, Conflict, ValidationFailed
from app.core.outbox_job import OutboxJob
from app.notify.models import Notification

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def clinic(db_session, make_community):
    return build_clinic(db_session, make_community().id)


@pytest.fixture
def people(make_resident, clinic, db_session):
    """Eight residents of the clinic's community."""
    from app.community.models import Community

    community = db_session.get(Community, clinic.community_id)
    return [make_resident("3", "1", f"{100 + i}", name=f"住户{i}", community=community) for i in range(8)]


def test_a_booking_takes_a_seat_and_schedules_both_reminders(db_session, clinic, people):
    slot = clinic.slot(db_session, "blood_pressure", NOW + timedelta(days=2), capacity=2)
    booking = bookings.create_booking(db_session, people[0], slot.id, now=NOW, source="wxa")
    assert (booking.status, booking.source, slot.booked) == ("booked", "wxa", 1)
    assert booking.number.startswith("YY") and booking.starts_at == slot.starts_at
    jobs = db_session.scalars(select(OutboxJob).where(OutboxJob.func == bookings.REMIND_JOB)
                              .order_by(OutboxJob.run_at)).all()
    assert [(j.args, j.run_at) for j in jobs] == [
        ([booking.id, "day"], slot.starts_at - timedelta(days=1)),
        ([booking.id, "hour"], slot.starts_at - timedelta(hours=1)),
    ]


def test_a_reminder_already_past_is_not_scheduled(db_session, clinic, people):
    slot = clinic.slot(db_session, "ecg", NOW + timedelta(hours=5))
    booking = bookings.create_booking(db_session, people[0], slot.id, now=NOW)
    jobs = db_session.scalars(select(OutboxJob).where(OutboxJob.func == bookings.REMIND_JOB)).all()
    assert [j.args for j in jobs] == [[booking.id, "hour"]]


def test_full_slot_twice_and_rules(db_session, clinic, people):
    slot = clinic.slot(db_session, "ecg", NOW + timedelta(days=1))
    bookings.create_booking(db_session, people[0], slot.id, now=NOW)
    with pytest.raises(bookings.AlreadyBooked):
        bookings.create_booking(db_session, people[0], slot.id, now=NOW)
    with pytest.raises(bookings.SlotFull) as full:
        bookings.create_booking(db_session, people[1], slot.id, now=NOW)
    assert full.value.status == 409 and "约满" in full.value.message
    soon = clinic.slot(db_session, "ecg", NOW + timedelta(minutes=30))
    with pytest.raises(ValidationFailed) as late:
        bookings.create_booking(db_session, people[1], soon.id, now=NOW)
    assert late.value.code == "too_late"
    far = clinic.slot(db_session, "ecg", NOW + timedelta(days=20))
    with pytest.raises(ValidationFailed) as too_far:
        bookings.create_booking(db_session, people[1], far.id, now=NOW)
    assert too_far.value.code == "too_far"
    assert db_session.get(Slot, slot.id).booked == 1 and bookings.booked_count(db_session, slot.id) == 1


def test_booking_limit_and_time_clash(db_session, clinic, people):
    at = NOW + timedelta(days=3)
    a, b, c = (clinic.slot(db_session, "tcm", at + timedelta(hours=h)) for h in (0, 1, 2))
    bookings.create_booking(db_session, people[0], a.id, now=NOW)
    bookings.create_booking(db_session, people[0], b.id, now=NOW)
    with pytest.raises(Conflict) as limit:
        bookings.create_booking(db_session, people[0], c.id, now=NOW)
    assert limit.value.code == "booking_limit"
    clash = clinic.slot(db_session, "ecg", at + timedelta(minutes=10))
    with pytest.raises(Conflict) as overlap:
        bookings.create_booking(db_session, people[0], clash.id, now=NOW)
    assert overlap.value.code == "time_clash"


def test_reserved_seats_are_for_red_residents(db_session, clinic, people):
    slot = clinic.slot(db_session, "general", NOW + timedelta(days=1), capacity=2, reserved=1)
    bookings.create_booking(db_session, people[0], slot.id, now=NOW)
    with pytest.raises(bookings.SlotFull):
        bookings.create_booking(db_session, people[1], slot.id, now=NOW)
    db_session.add(HealthRecord(resident_id=people[2].id, colour="red", source="doctor", note="高血压3级"))
    db_session.flush()
    bookings.create_booking(db_session, people[2], slot.id, now=NOW)
    assert db_session.get(Slot, slot.id).booked == 2


def test_cancel_frees_the_seat_and_tells_the_waitlist(db_session, clinic, people):
    slot = clinic.slot(db_session, "ct", NOW + timedelta(days=2))
    booking = bookings.create_booking(db_session, people[0], slot.id, now=NOW)
    with pytest.raises(ValidationFailed):
        bookings.join_waitlist(db_session, people[1], clinic.slot(db_session, "ct", NOW + timedelta(days=3)).id,
                               now=NOW)  # a slot with room is booked, not waited for
    entry = bookings.join_waitlist(db_session, people[1], slot.id, now=NOW)
    assert bookings.join_waitlist(db_session, people[1], slot.id, now=NOW).id == entry.id
    bookings.cancel_booking(db_session, booking, now=NOW)
    assert booking.status == "cancelled" and db_session.get(Slot, slot.id).booked == 0
    [note] = db_session.scalars(select(Notification).where(Notification.resident_id == people[1].id)).all()
    assert note.category == "health" and "有空位了" in note.text and entry.status == "notified"
    again = bookings.create_booking(db_session, people[1], slot.id, now=NOW)
    assert again.status == "booked" and entry.status == "booked"
    with pytest.raises(Conflict):
        bookings.cancel_booking(db_session, booking, now=NOW)  # already cancelled


def test_a_cancelled_booking_can_be_booked_again_by_the_same_resident(db_session, clinic, people):
    slot = clinic.slot(db_session, "ct", NOW + timedelta(days=2))
    first = bookings.create_booking(db_session, people[0], slot.id, now=NOW)
    bookings.cancel_booking(db_session, first, now=NOW)
    second = bookings.create_booking(db_session, people[0], slot.id, now=NOW)
    assert second.id != first.id and db_session.get(Slot, slot.id).booked == 1


def test_reschedule_moves_the_seat(db_session, clinic, people):
    old = clinic.slot(db_session, "checkup", NOW + timedelta(days=2))
    new = clinic.slot(db_session, "checkup", NOW + timedelta(days=4))
    other = clinic.slot(db_session, "ecg", NOW + timedelta(days=5))
    booking = bookings.create_booking(db_session, people[0], old.id, now=NOW)
    with pytest.raises(ValidationFailed):
        bookings.reschedule(db_session, booking, other.id, now=NOW)
    moved = bookings.reschedule(db_session, booking, new.id, now=NOW)
    assert (booking.status, moved.status, moved.rescheduled_from_id) == ("cancelled", "booked", booking.id)
    assert (db_session.get(Slot, old.id).booked, db_session.get(Slot, new.id).booked) == (0, 1)
    full = clinic.slot(db_session, "checkup", NOW + timedelta(days=6), booked=1)
    with pytest.raises(bookings.SlotFull):
        bookings.reschedule(db_session, moved, full.id, now=NOW)
    assert moved.status == "booked" and db_session.get(Slot, new.id).booked == 1  # a failed move keeps the seat


def test_no_show_sweep_and_statuses(db_session, clinic, people):
    past = clinic.slot(db_session, "blood_glucose", NOW + timedelta(days=1))
    came = clinic.slot(db_session, "blood_glucose", NOW + timedelta(days=1, hours=1))
    missed = bookings.create_booking(db_session, people[0], past.id, now=NOW)
    done = bookings.create_booking(db_session, people[1], came.id, now=NOW)
    later = NOW + timedelta(days=1, minutes=40)
    assert bookings.mark_no_shows(db_session, now=later) == 0  # 15 minutes of grace after the end
    bookings.check_in(db_session, done, now=later)
    bookings.complete(db_session, done, now=later + timedelta(hours=1))
    assert bookings.mark_no_shows(db_session, now=NOW + timedelta(days=1, hours=3)) == 1
    assert (missed.status, done.status) == ("no_show", "completed")
    with pytest.raises(Conflict):
        bookings.cancel_booking(db_session, missed, now=later)


# ---- the race for the last seats --------------------------------------------------------------

def _race(app, resident_ids: list[int], slot_id: int) -> list[str]:
    """Every resident asks for the slot at the same moment, each in its own app context and session."""
    sqlite = db.engine.dialect.name == "sqlite"
    serial = threading.Lock()  # SQLite tests share one in-memory connection: its natural serialisation
    barrier = threading.Barrier(len(resident_ids))
    results: list[str] = []

    def ask(resident_id: int) -> None:
        barrier.wait()
        with app.app_context(), (serial if sqlite else _nothing()):
            try:
                bookings.create_booking(db.session, db.session.get(Resident, resident_id), slot_id, now=NOW)
                db.session.commit()
                results.append("booked")
            except AppError as err:
                db.session.rollback()
                results.append(err.code)
            except Exception as exc:  # noqa: BLE001 - a 500 would be a failure of the test
                db.session.rollback()
                results.append(f"error: {exc!r}")

    threads = [threading.Thread(target=ask, args=(rid,)) for rid in resident_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_many_residents_racing_for_the_last_seats_get_exactly_that_many(app, db_session, clinic, make_resident):
    from app.community.models import Community

    community = db_session.get(Community, clinic.community_id)
    racers = [make_resident("5", "1", f"{200 + i}", community=community).id for i in range(12)]
    slot = clinic.slot(db_session, "vaccination", NOW + timedelta(days=2), capacity=5, booked=2)  # 3 seats left
    db_session.commit()
    results = _race(app, racers, slot.id)
    assert sorted(results) == ["booked"] * 3 + ["slot_full"] * 9, results
    db_session.expire_all()
    assert db_session.get(Slot, slot.id).booked == 5
    assert bookings.booked_count(db_session, slot.id) == 3


def test_one_resident_racing_themselves_books_once(app, db_session, clinic, people):
    slot = clinic.slot(db_session, "vaccination", NOW + timedelta(days=2), capacity=10)
    db_session.commit()
    results = _race(app, [people[0].id] * 8, slot.id)
    assert sorted(results) == ["already_booked"] * 7 + ["booked"], results
    db_session.expire_all()
    count = db_session.scalar(select(func.count()).select_from(Booking).where(Booking.slot_id == slot.id))
    assert count == 1 and db_session.get(Slot, slot.id).booked == 1
    assert db_session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0


def test_slots_are_generated_from_weekly_templates_once(db_session, clinic):
    from datetime import date, time

    from app.clinic.models import ScheduleTemplate
    from app.clinic.slots import generate_slots, local_to_utc
    from app.core.clock import to_local

    db_session.add(ScheduleTemplate(community_id=clinic.community_id, provider_id=clinic.provider.id,
                                    service_id=clinic.services["ecg"].id, place_id=clinic.room.id, weekday=0,
                                    start="08:00", end="09:10", slot_minutes=30, capacity=2, reserved=1))
    db_session.flush()
    monday = date(2026, 11, 30)
    assert generate_slots(db_session, clinic.community_id, monday - timedelta(days=2), 14) == 4  # two Mondays
    assert generate_slots(db_session, clinic.community_id, monday - timedelta(days=2), 14) == 0
    slots = db_session.scalars(select(Slot).order_by(Slot.starts_at)).all()
    assert [to_local(s.starts_at).strftime("%m-%d %H:%M") for s in slots] == [
        "11-30 08:00", "11-30 08:30", "12-07 08:00", "12-07 08:30"]  # 09:00 would end after 09:10
    assert slots[0].starts_at == local_to_utc(monday, time(8, 0)) and slots[0].starts_at.hour == 0
    assert (slots[0].capacity, slots[0].reserved, slots[0].free) == (2, 1, 1)
