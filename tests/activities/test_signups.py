"""Sign-ups in the service layer: seats and the waitlist, promotion inside the cancel transaction with its
deadline, the expiry job, confirming, check-in by code and by staff, feedback, reminders, stewards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value
from world import activity

from app.activities import activities, signups
from app.activities.jobs import expire_offers, send_reminders
from app.activities.models import Activity, Signup
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import AppError
from app.notify.models import Notification


@pytest.fixture
def people(make_resident, db_session):
    return [make_resident("3", "1", f"{100 + i}", name=f"住户{i}") for i in range(5)]


def _texts(resident_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification.text).where(Notification.resident_id == resident_id)
                                   .order_by(Notification.id)))


def test_seats_then_waitlist_and_no_second_signup(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=2)
    rows = [signups.sign_up(db_session, p, a.id) for p in people[:4]]
    assert [r.status for r in rows] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert a.taken == 2 and a.seats_left == 0
    with pytest.raises(AppError) as again:
        signups.sign_up(db_session, people[0], a.id)
    assert again.value.code == "already_signed_up"
    with pytest.raises(AppError) as full:
        signups.sign_up(db_session, people[4], a.id, waitlist=False)
    assert full.value.code == "activity_full"
    assert signups.overbooked(db_session, a.id) == 0


def test_unlimited_capacity_never_waits(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=0)
    assert {signups.sign_up(db_session, p, a.id).status for p in people} == {"confirmed"}
    assert a.seats_left is None


def test_cancel_promotes_the_first_waiting_at_once_with_a_24h_deadline(db_session, people, clock):
    a = activity(db_session, people[0].community_id, capacity=1, hours=72)
    first = signups.sign_up(db_session, people[0], a.id)
    waiting = [signups.sign_up(db_session, p, a.id) for p in people[1:3]]
    signups.cancel(db_session, first)
    db_session.expire_all()
    assert first.status == "cancelled"
    assert [w.status for w in waiting] == ["offered", "waiting"]
    deadline = waiting[0].offer_expires_at
    assert abs((deadline - utcnow()) - timedelta(hours=24)) < timedelta(minutes=1)
    assert "有空位了" in _texts(people[1].id)[-1]
    assert a.taken == 1
    signups.confirm_offer(db_session, waiting[0])
    assert waiting[0].status == "confirmed"


def test_offer_deadline_is_two_hours_before_a_near_start(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=1, hours=10)
    assert signups.offer_deadline(a, utcnow()) == a.starts_at - timedelta(hours=2)
    soon = activity(db_session, people[0].community_id, title="马上开始", capacity=1, hours=1)
    assert signups.offer_deadline(soon, utcnow()) == soon.starts_at


def test_an_unconfirmed_offer_expires_and_the_next_is_offered(app, db_session, people, clock):
    a = activity(db_session, people[0].community_id, capacity=1, hours=72)
    first = signups.sign_up(db_session, people[0], a.id)
    second, third = (signups.sign_up(db_session, p, a.id) for p in people[1:3])
    signups.cancel(db_session, first)
    db_session.commit()
    clock.shift(timedelta(hours=25))
    assert expire_offers() == 1
    db_session.expire_all()
    assert (second.status, third.status) == ("expired", "offered")
    assert "让给下一位" in _texts(people[1].id)[-1]
    with pytest.raises(AppError) as late:
        signups.confirm_offer(db_session, second)
    assert late.value.code == "no_offer"
    assert db_session.get(type(a), a.id).taken == 1


def test_more_seats_move_the_waitlist_up(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=1)
    rows = [signups.sign_up(db_session, p, a.id) for p in people[:3]]
    activities.set_capacity(db_session, a, 2)
    db_session.expire_all()
    assert [r.status for r in rows] == ["confirmed", "offered", "waiting"]
    with pytest.raises(AppError):
        activities.set_capacity(db_session, a, 1)


def test_check_in_by_code_only_near_the_start(db_session, people, clock):
    a = activity(db_session, people[0].community_id, hours=30)
    signups.sign_up(db_session, people[0], a.id)
    with pytest.raises(AppError) as early:
        signups.check_in_with_code(db_session, people[0], a.id, a.checkin_code)
    assert early.value.code == "checkin_closed"
    clock.move_to(a.starts_at - timedelta(minutes=30))
    with pytest.raises(AppError) as wrong:
        signups.check_in_with_code(db_session, people[0], a.id, "x" + a.checkin_code[1:])
    assert wrong.value.code == "bad_checkin_code"
    row = signups.check_in_with_code(db_session, people[0], a.id, a.checkin_code)
    assert row.checked_in_by == "code" and row.checked_in_at is not None
    with pytest.raises(AppError):
        signups.check_in_with_code(db_session, people[1], a.id, a.checkin_code)  # not signed up


def test_feedback_after_the_end_from_participants(db_session, people, clock):
    a = activity(db_session, people[0].community_id, hours=5)
    signups.sign_up(db_session, people[0], a.id)
    with pytest.raises(AppError) as before:
        signups.leave_feedback(db_session, people[0], a.id, 5, "好")
    assert before.value.code == "not_finished"
    clock.move_to(a.ends_at + timedelta(hours=1))
    row = signups.leave_feedback(db_session, people[0], a.id, 4, "老师讲得很好")
    assert (row.rating, row.feedback) == (4, "老师讲得很好")
    with pytest.raises(AppError):
        signups.leave_feedback(db_session, people[1], a.id, 5)
    with pytest.raises(AppError):
        signups.leave_feedback(db_session, people[0], a.id, 6)


def test_reminders_the_day_before_once(app, db_session, people, clock):
    far = activity(db_session, people[0].community_id, title="远的", hours=50)
    near = activity(db_session, people[0].community_id, title="近的", hours=20)
    signups.sign_up(db_session, people[0], far.id)
    signups.sign_up(db_session, people[0], near.id)
    db_session.commit()
    assert send_reminders() == 1
    assert "活动提醒" in _texts(people[0].id)[-1] and "近的" in _texts(people[0].id)[-1]
    assert send_reminders() == 0
    clock.shift(timedelta(hours=30))
    assert send_reminders() == 1


def test_cancelling_an_activity_tells_everyone(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=1)
    for p in people[:2]:
        signups.sign_up(db_session, p, a.id)
    assert activities.cancel_activity(db_session, a, "下雨") == 2
    assert "取消了（下雨）" in _texts(people[1].id)[-1]
    with pytest.raises(AppError):
        signups.sign_up(db_session, people[2], a.id)


def test_my_signups_and_roster(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=1)
    for p in people[:3]:
        signups.sign_up(db_session, p, a.id)
    assert [s.status for s in signups.roster(db_session, a)] == ["confirmed", "waiting", "waiting"]
    assert [s.activity_id for s in signups.my_signups(db_session, people[2])] == [a.id]
    assert db_session.scalars(select(Signup)).all()


def test_signing_up_again_after_cancelling_goes_to_the_back_of_the_queue(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=1)
    first, second, third = (signups.sign_up(db_session, p, a.id) for p in people[:3])
    signups.cancel(db_session, second)
    again = signups.sign_up(db_session, people[1], a.id)
    assert again.id == second.id and again.status == "waiting"  # the withdrawn row, reused
    assert again.queued_at >= third.queued_at and again.cancelled_at is None
    signups.cancel(db_session, first)
    db_session.expire_all()
    assert (third.status, again.status) == ("offered", "waiting")
    assert signups.overbooked(db_session, a.id) == 0


def test_seats_counted_from_a_stale_read_are_corrected(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=1)
    assert signups.sign_up(db_session, people[0], a.id).status == "confirmed"
    # a seat frees behind the session's back: the activity still reads full, the seat is taken all the same
    db_session.execute(update(Activity).where(Activity.id == a.id).values(taken=0)
                       .execution_options(synchronize_session=False))
    assert signups.sign_up(db_session, people[1], a.id).status == "confirmed"
    # and the other way: the activity reads a free seat that is gone
    db_session.execute(update(Activity).where(Activity.id == a.id).values(taken=1)
                       .execution_options(synchronize_session=False))
    set_committed_value(a, "taken", 0)
    row = signups.sign_up(db_session, people[2], a.id)
    db_session.expire_all()
    assert row.status == "waiting" and a.taken == 1


def test_a_refusal_without_the_waitlist_writes_nothing(db_session, people):
    a = activity(db_session, people[0].community_id, capacity=1)
    signups.sign_up(db_session, people[0], a.id)
    signups.cancel(db_session, signups.sign_up(db_session, people[1], a.id))
    for person in people[1:3]:  # a withdrawn sign-up stays withdrawn, and no new one appears
        with pytest.raises(AppError) as full:
            signups.sign_up(db_session, person, a.id, waitlist=False)
        assert full.value.code == "activity_full"
    db_session.expire_all()
    assert [s.status for s in signups.roster(db_session, a)] == ["confirmed", "cancelled"]
    assert a.taken == 1
