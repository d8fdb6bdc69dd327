"""Organisers' console pages: activities, sign-up list, check-in, steward sign-up, seats, announcing through
a campaign, clubs and members; CSRF as every console form."""

from __future__ import annotations

import pytest
from console_forms import login, post
from sqlalchemy import select
from world import activity

from app.activities import clubs, signups
from app.activities.models import Activity, Signup
from app.campaigns.models import Campaign
from app.core.clock import local_now
from app.core.db import db
from app.notify.models import Notification


@pytest.fixture
def world(make_resident, make_staff, db_session):
    old = make_resident("3", "2", "1201", name="孙奶奶", phone="13900000001", birth_year=1945)
    a = activity(db_session, old.community_id, title="重阳包饺子", capacity=1, hours=30)
    steward = make_staff("steward", username="steward", buildings=["3"])
    other = make_staff("steward", username="steward9", buildings=["9"])
    admin = make_staff("admin", username="boss")
    db_session.commit()
    return {"old": old, "a": a, "steward": steward, "other": other, "admin": admin}


def test_steward_signs_up_an_older_resident_and_checks_her_in(client, world):
    a = world["a"]
    login(client, "steward")
    page = client.get(f"/console/activities/{a.id}")
    assert page.status_code == 200 and "代老人报名" in page.get_data(as_text=True)
    done = post(client, f"/console/activities/{a.id}/steward", {"building": "3", "room": "1201"})
    assert done.status_code == 303
    db.session.expire_all()
    row = db.session.scalar(select(Signup).where(Signup.activity_id == a.id))
    assert (row.status, row.source, row.signed_by_staff_id) == ("confirmed", "steward", world["steward"].id)
    assert post(client, f"/console/activities/{a.id}/checkin/{row.id}").status_code == 303
    db.session.expire_all()
    assert db.session.get(Signup, row.id).checked_in_by == "staff"
    assert "孙奶奶" in client.get(f"/console/activities/{a.id}").get_data(as_text=True)


def test_steward_outside_her_buildings_is_refused_and_csrf_is_checked(client, world):
    a = world["a"]
    login(client, "steward9")
    post(client, f"/console/activities/{a.id}/steward", {"phone": "13900000001"})
    db.session.expire_all()
    assert db.session.scalar(select(Signup)) is None
    no_token = client.post(f"/console/activities/{a.id}/steward", data={"phone": "13900000001"})
    assert no_token.status_code == 400


def test_admin_creates_an_activity_changes_seats_and_announces_it(client, world, make_resident):
    login(client, "boss")
    day = local_now().date().toordinal() + 3
    from datetime import date
    made = post(client, "/console/activities", {"title": "健康讲座", "day": date.fromordinal(day).isoformat(),
                                                 "time": "14:30", "minutes": "60", "place": "多功能厅",
                                                 "capacity": "50"})
    assert made.status_code == 303
    db.session.expire_all()
    lecture = db.session.scalar(select(Activity).where(Activity.title == "健康讲座"))
    assert lecture.capacity == 50 and len(lecture.checkin_code) == 6
    assert "健康讲座" in client.get("/console/activities").get_data(as_text=True)
    post(client, f"/console/activities/{lecture.id}/capacity", {"capacity": "80"})
    db.session.expire_all()
    assert db.session.get(Activity, lecture.id).capacity == 80
    sent = post(client, f"/console/activities/{lecture.id}/announce",
                {"audience": "age>=60 AND (building:1 OR building:3)", "send": "1"})
    assert sent.status_code == 303
    db.session.expire_all()
    campaign = db.session.scalar(select(Campaign))
    assert campaign.status == "scheduled" and campaign.audience.startswith("age>=60")
    assert "健康讲座" in campaign.body and db.session.get(Activity, lecture.id).campaign_id == campaign.id
    post(client, f"/console/activities/{lecture.id}/announce", {"audience": "age>>60"})
    assert db.session.scalar(select(Campaign).where(Campaign.id != campaign.id)) is None  # refused, nothing made


def test_clubs_pages_members_roles_and_notice(client, world, make_resident, db_session):
    club = clubs.create_club(db_session, world["old"].community_id, name="编织小组", organiser=world["old"])
    member = make_resident("3", "1", "301", name="周阿姨")
    clubs.join(db_session, club, member)
    db_session.commit()
    login(client, "boss")
    assert "编织小组" in client.get("/console/clubs").get_data(as_text=True)
    page = client.get(f"/console/clubs/{club.id}").get_data(as_text=True)
    assert "周阿姨" in page and "负责人" in page
    post(client, f"/console/clubs/{club.id}/role/{member.id}", {"role": "assistant"})
    post(client, f"/console/clubs/{club.id}/notice", {"text": "下周毛线到了"})
    db.session.expire_all()
    assert db.session.scalar(select(Notification.text).where(Notification.resident_id == member.id)) \
        == "【编织小组】下周毛线到了"
    assert clubs.members(db.session, db.session.merge(club))[1].role == "assistant"
    made = post(client, "/console/clubs", {"name": "象棋社", "every_weeks": "1", "weekday": "2",
                                            "session_time": "14:00", "place": "老年活动室"})
    assert made.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Activity).where(Activity.title == "象棋社")) is not None


def test_a_cancelled_seat_shows_the_promoted_neighbour_in_the_list(client, world, make_resident, db_session):
    a = world["a"]
    first = signups.sign_up(db_session, world["old"], a.id)
    waiting = make_resident("3", "1", "302", name="钱大伯")
    signups.sign_up(db_session, waiting, a.id)
    signups.cancel(db_session, first)
    db_session.commit()
    login(client, "boss")
    page = client.get(f"/console/activities/{a.id}").get_data(as_text=True)
    assert "候补转正待确认" in page and "钱大伯" in page
