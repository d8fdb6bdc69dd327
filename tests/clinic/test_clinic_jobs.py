"""Clinic jobs with a controlled clock: reminders held in the outbox until their time, sent once through
notify to the fake WeChat; the periodic no-show sweep."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from clinic_world import build_clinic
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from sqlalchemy import select, update

from app.clinic import bookings
from app.clinic import jobs as clinic_jobs
from app.clinic.models import Booking
from app.core.clock import utcnow
from app.core.db import db
from app.core.outbox import get_queue
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis
from app.notify.models import Notification
from app.notify.notify import set_preferences
from workers.cron import load_cron


@pytest.fixture
def wang(make_resident, db_session):
    resident = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    set_preferences(db_session, resident.id, quiet_hours=False)  # the test runs at any wall-clock hour
    db_session.commit()
    return resident


@pytest.fixture
def clinic(db_session, wang):
    return build_clinic(db_session, wang.community_id)


def _reminder_rows() -> list[OutboxJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxJob).where(OutboxJob.func == bookings.REMIND_JOB)
                                   .order_by(OutboxJob.run_at)))


def _clock_reaches(app, row: OutboxJob) -> None:
    """Time passes until the reminder's run_at (the job is moved, not the clock): the outbox row in
    embedded mode; on real Redis the job RQ's scheduler holds, which the scheduler then enqueues."""
    past, due = utcnow() - timedelta(seconds=1), row.run_at
    db.session.execute(update(OutboxJob).where(OutboxJob.id == row.id).values(run_at=past))
    db.session.commit()
    if not app.config.get("REDIS_URL"):
        return
    connection = get_redis(app)
    queue = get_queue(app, "default")
    registry = ScheduledJobRegistry(queue=queue)
    [job_id] = [j for j in registry.get_job_ids() if j.startswith(f"outbox-{row.id}-")]
    scheduled = registry.get_scheduled_time(job_id).replace(tzinfo=None)
    assert abs((scheduled - due).total_seconds()) < 1  # RQ held it for exactly run_at
    registry.schedule(Job.fetch(job_id, connection=connection), past.replace(tzinfo=UTC))
    scheduler = RQScheduler([queue], connection=connection)
    scheduler.acquire_locks()
    scheduler.enqueue_scheduled_jobs()
    scheduler.release_locks()


def test_reminders_wait_for_their_time_then_go_out_once(app, db_session, clinic, wang, run_jobs, fake_wechat):
    slot = clinic.slot(db_session, "ecg", utcnow() + timedelta(days=2))
    booking = bookings.create_booking(db_session, wang, slot.id)
    db_session.commit()
    run_jobs()
    day, hour = _reminder_rows()
    assert (day.args, hour.args) == ([booking.id, "day"], [booking.id, "hour"])
    assert db_session.scalars(select(Notification)).all() == []  # nothing before its time
    _clock_reaches(app, day)
    run_jobs()
    run_jobs()  # the delivery job the reminder enqueued
    [note] = db_session.scalars(select(Notification)).all()
    assert note.category == "health" and note.template == "booking" and "明天有心电图预约" in note.text
    assert booking.number in note.text and note.status == "sent"
    sent = fake_wechat.sent_messages()
    assert len(sent) == 1 and sent[0]["touser"] == "o_wang"
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).reminded_day_at is not None
    assert clinic_jobs.remind(booking.id, "day") is False  # a second run sends nothing
    _clock_reaches(app, hour)
    run_jobs()
    run_jobs()
    texts = [n.text for n in db.session.scalars(select(Notification).order_by(Notification.id))]
    assert len(texts) == 2 and "1小时后有心电图预约" in texts[1]


def test_a_cancelled_booking_gets_no_reminder(app, db_session, clinic, wang, run_jobs):
    slot = clinic.slot(db_session, "ct", utcnow() + timedelta(days=2))
    booking = bookings.create_booking(db_session, wang, slot.id)
    db_session.commit()
    bookings.cancel_booking(db_session, booking)
    db_session.commit()
    for row in _reminder_rows():
        _clock_reaches(app, row)
    run_jobs()
    run_jobs()
    assert db.session.scalars(select(Notification)).all() == []


def test_the_no_show_sweep_is_a_periodic_job(app, db_session, clinic, wang):
    names = {j.name: j for j in load_cron(get_redis(app)).get_jobs()}
    assert names["app.clinic.jobs.mark_no_shows"].interval == 600
    then = utcnow() - timedelta(days=1)
    slot = clinic.slot(db_session, "blood_pressure", then + timedelta(hours=2))
    booking = bookings.create_booking(db_session, wang, slot.id, now=then)  # booked yesterday, for 2 h later
    ongoing = clinic.slot(db_session, "blood_glucose", utcnow() - timedelta(minutes=10))
    current = bookings.create_booking(db_session, wang, ongoing.id, now=then)
    db_session.commit()
    assert clinic_jobs.mark_no_shows() == 1
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "no_show"
    assert db.session.get(Booking, current.id).status == "booked"  # its slot has not ended yet
    assert clinic_jobs.mark_no_shows() == 0


def test_slots_are_topped_up_daily_from_the_templates(app, db_session, clinic):
    from app.clinic.models import ScheduleTemplate, Slot

    names = {j.name: j for j in load_cron(get_redis(app)).get_jobs()}
    assert names["app.clinic.jobs.top_up_slots"].interval == 21600
    for weekday in range(7):
        db_session.add(ScheduleTemplate(community_id=clinic.community_id, provider_id=clinic.provider.id,
                                        service_id=clinic.services["general"].id, place_id=clinic.room.id,
                                        weekday=weekday, start="09:00", end="10:00", slot_minutes=30, capacity=1))
    db_session.commit()
    assert clinic_jobs.top_up_slots() == 42  # 2 a day for 21 days
    assert clinic_jobs.top_up_slots() == 0
    db.session.expire_all()
    assert db.session.query(Slot).count() == 42
