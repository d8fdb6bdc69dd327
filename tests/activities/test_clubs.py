"""Clubs: members with roles, join and leave, notices through notify, weekly and fortnightly sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.activities import clubs
from app.activities.jobs import generate_sessions
from app.activities.models import Activity
from app.core.clock import local_now, to_local
from app.core.errors import AppError
from app.notify.models import Notification


@pytest.fixture
def wang(make_resident):
    return make_resident("3", "2", "1201", name="王阿姨")


def test_resident_organiser_join_leave_and_notice(db_session, wang, make_resident):
    li = make_resident("5", "1", "101", name="李大爷")
    club = clubs.create_club(db_session, wang.community_id, name="合唱团", organiser=wang)
    clubs.join(db_session, club, li)
    clubs.join(db_session, club, li)  # twice changes nothing
    assert [(m.resident.name, m.role) for m in clubs.members(db_session, club)] == [("王阿姨", "organiser"),
                                                                                   ("李大爷", "member")]
    clubs.set_role(db_session, club, li.id, "assistant")
    assert clubs.notice(db_session, club, "本周六改到二楼") == 2
    texts = db_session.scalars(select(Notification.text).where(Notification.resident_id == li.id)).all()
    assert texts == ["【合唱团】本周六改到二楼"]
    clubs.leave(db_session, club, li)
    assert len(clubs.members(db_session, club)) == 1
    with pytest.raises(AppError):
        clubs.leave(db_session, club, li)
    clubs.join(db_session, club, li)
    assert len(clubs.members(db_session, club)) == 2


def test_weekly_and_fortnightly_sessions(app, db_session, wang, make_staff):
    staff = make_staff("committee")
    today = local_now().date()
    weekly = clubs.create_club(db_session, wang.community_id, name="太极拳", organiser=staff, every_weeks=1,
                               weekday=(today.weekday() + 1) % 7, session_time="07:30", capacity=0)
    fortnight = clubs.create_club(db_session, wang.community_id, name="读书会", organiser=staff, every_weeks=2,
                                  weekday=(today.weekday() + 2) % 7, session_time="19:30", first_day=today)
    assert clubs.generate_sessions(db_session, weekly) == 2
    assert clubs.generate_sessions(db_session, weekly) == 0  # only missing ones
    assert clubs.generate_sessions(db_session, fortnight) == 1
    db_session.commit()
    assert generate_sessions() == 0
    rows = db_session.scalars(select(Activity).where(Activity.club_id == weekly.id).order_by(Activity.starts_at)).all()
    assert [to_local(a.starts_at).strftime("%H:%M") for a in rows] == ["07:30", "07:30"]
    assert rows[1].starts_at - rows[0].starts_at == timedelta(days=7)
    assert to_local(rows[0].starts_at).date() == today + timedelta(days=1)
