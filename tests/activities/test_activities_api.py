"""Activities and clubs through the mini-program API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from world import activity

from app.activities import clubs
from app.core.db import db


@pytest.fixture
def world(make_resident, db_session, login, make_staff):
    wang = make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    make_resident("5", "1", "101", name="李大爷", wxa_openid="wxa_li")
    a = activity(db_session, wang.community_id, title="书法课", capacity=1, hours=30)
    club = clubs.create_club(db_session, wang.community_id, name="摄影社", organiser=make_staff("committee"))
    db_session.commit()
    return {"a": a, "club": club, "wang": login("wang"), "li": login("li")}


def test_list_search_signup_cancel_confirm(client, world):
    a, wang, li = world["a"], world["wang"], world["li"]
    listed = client.get("/api/v1/activities?q=书法", headers=wang).get_json()["activities"]
    assert [x["id"] for x in listed] == [a.id] and listed[0]["seats_left"] == 1
    assert client.get("/api/v1/activities?q=瑜伽", headers=wang).get_json()["activities"] == []
    first = client.post(f"/api/v1/activities/{a.id}/signup", headers=wang)
    assert first.status_code == 201 and first.get_json()["status"] == "confirmed"
    again = client.post(f"/api/v1/activities/{a.id}/signup", headers=wang)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_signed_up"
    assert client.post(f"/api/v1/activities/{a.id}/signup", headers=li).get_json()["status"] == "waiting"
    assert client.post(f"/api/v1/activities/{a.id}/cancel", headers=wang).get_json()["status"] == "cancelled"
    mine = client.get("/api/v1/activities/mine", headers=li).get_json()["signups"]
    assert mine[0]["status"] == "offered" and mine[0]["offer_expires_at"]
    assert client.post(f"/api/v1/activities/{a.id}/confirm", headers=li).get_json()["status"] == "confirmed"
    nothing = client.post(f"/api/v1/activities/{a.id}/confirm", headers=wang)
    assert nothing.status_code == 409


def test_checkin_and_feedback(client, world, clock):
    a, wang = world["a"], world["wang"]
    client.post(f"/api/v1/activities/{a.id}/signup", headers=wang)
    clock.move_to(a.starts_at - timedelta(minutes=10))
    bad = client.post(f"/api/v1/activities/{a.id}/checkin", json={"code": "abcdef"}, headers=wang)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_checkin_code"
    ok = client.post(f"/api/v1/activities/{a.id}/checkin", json={"code": a.checkin_code}, headers=wang)
    assert ok.status_code == 200 and ok.get_json()["checked_in"] is True
    clock.move_to(a.ends_at + timedelta(minutes=5))
    fb = client.post(f"/api/v1/activities/{a.id}/feedback", json={"rating": 5, "text": "很好"}, headers=wang)
    assert fb.status_code == 200 and fb.get_json()["rating"] == 5
    assert client.post(f"/api/v1/activities/{a.id}/feedback", json={"rating": 9}, headers=wang).status_code == 422


def test_clubs_join_and_leave(client, world):
    club, wang = world["club"], world["wang"]
    assert client.get("/api/v1/clubs", headers=wang).get_json()["clubs"][0]["joined"] is False
    joined = client.post(f"/api/v1/clubs/{club.id}/join", headers=wang).get_json()
    assert joined["joined"] is True and joined["members"] == 1
    assert client.post(f"/api/v1/clubs/{club.id}/leave", headers=wang).get_json()["joined"] is False
    assert client.post(f"/api/v1/clubs/{club.id}/leave", headers=wang).status_code == 409
    assert client.post("/api/v1/clubs/99999/join", headers=wang).status_code == 404
    db.session.rollback()
