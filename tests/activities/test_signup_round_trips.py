"""What one sign-up through the mini-program costs the database, pinned so it cannot creep back (issue 20:
sign-up p95 <= 300 ms at 50 concurrent requests).

Counted as round trips (on PostgreSQL each is one; this file runs in both passes): BEGIN; who is asking
(the token's version with the bound resident, one statement); the activity; the sign-up written (INSERT …
ON CONFLICT DO UPDATE, which also answers "already signed up"); the seat (UPDATE … RETURNING); COMMIT.
The seat's UPDATE locks the activity's row, which every sign-up for it needs, until COMMIT: it is the last
statement, and nothing is read after it (not the row just written, not the activity again)."""

from __future__ import annotations

import pytest
from round_trips import counting
from world import activity

from app.activities.models import Activity, Signup
from app.core.db import db

SEAT = "UPDATE activity SET taken="
WRITE = "INSERT INTO activity_signup"


@pytest.fixture
def world(make_resident, db_session, login):
    people = [make_resident("1", "1", f"{101 + i}", name=f"住户{i}", wxa_openid=f"wxa_rt{i}") for i in range(3)]
    a = activity(db_session, people[0].community_id, capacity=1, hours=48)
    db_session.commit()
    return {"a": a.id, "heads": [login(f"rt{i}") for i in range(3)]}


def _post(client, path: str, headers: dict):
    db.session.remove()  # each request has a session of its own, as under gunicorn
    with counting(db.engine) as trips:
        response = client.post(path, headers=headers)
    return response, trips


def _assert_signup(trips) -> None:
    assert trips.count == 6, trips
    assert trips.sent[0] == "BEGIN" and trips.sent[1].startswith("SELECT"), trips  # the token and the resident
    assert trips.sent[2].startswith("SELECT activity."), trips
    assert trips.sent[3].startswith(WRITE) and "ON CONFLICT" in trips.sent[3], trips
    assert trips.sent[4].startswith(SEAT) and trips.sent[5] == "COMMIT", trips  # the seat last, then COMMIT


def test_a_seat_is_six_round_trips_with_the_seat_last(client, world):
    response, trips = _post(client, f"/api/v1/activities/{world['a']}/signup", world["heads"][0])
    assert response.status_code == 201 and response.get_json()["status"] == "confirmed"
    assert response.get_json()["activity"]["seats_left"] == 0
    _assert_signup(trips)


def test_the_waitlist_costs_the_same(client, world):
    client.post(f"/api/v1/activities/{world['a']}/signup", headers=world["heads"][0])
    response, trips = _post(client, f"/api/v1/activities/{world['a']}/signup", world["heads"][1])
    assert response.status_code == 201 and response.get_json()["status"] == "waiting"
    _assert_signup(trips)


def test_signing_up_again_after_cancelling_costs_the_same(client, world):
    a, heads = world["a"], world["heads"]
    client.post(f"/api/v1/activities/{a}/signup", headers=heads[0])
    client.post(f"/api/v1/activities/{a}/signup", headers=heads[1])
    assert client.post(f"/api/v1/activities/{a}/cancel", headers=heads[1]).get_json()["status"] == "cancelled"
    response, trips = _post(client, f"/api/v1/activities/{a}/signup", heads[1])
    assert response.status_code == 201 and response.get_json()["status"] == "waiting"
    _assert_signup(trips)


def test_signing_up_twice_takes_no_seat(client, world):
    a, heads = world["a"], world["heads"]
    client.post(f"/api/v1/activities/{a}/signup", headers=heads[0])
    response, trips = _post(client, f"/api/v1/activities/{a}/signup", heads[0])
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_signed_up"
    assert not any(s.startswith(SEAT) for s in trips.sent), trips
    assert trips.count <= 6, trips  # the held sign-up is read only to name its status
    db.session.expire_all()
    assert db.session.get(Activity, a).taken == 1
    assert db.session.query(Signup).filter_by(activity_id=a).count() == 1
