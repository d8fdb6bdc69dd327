"""200 residents race for 20 seats through the mini-program API on PostgreSQL: no seat is overbooked, the
rest wait in line, and a cancellation promotes the first of them inside the same request.

Each thread posts through its own test client (its own session). At most 12 requests are in flight at
once (see tests/clinic/test_booking_races.py: more would wait for each other's pooled connections)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select
from world import activity

from app.activities import signups
from app.activities.models import Activity, Signup
from app.core.db import db

RESIDENTS = 200
SEATS = 20
IN_FLIGHT = 12


@pytest.mark.postgres
def test_two_hundred_way_race_overbooks_nothing(app, db_session, make_resident, login):
    people = [make_resident("1", "1", f"{1000 + i}", name=f"住户{i}", wxa_openid=f"wxa_r{i}")
              for i in range(RESIDENTS)]
    a = activity(db_session, people[0].community_id, capacity=SEATS, hours=48)
    db_session.commit()
    activity_id = a.id
    headers = [login(f"r{i}") for i in range(RESIDENTS)]
    gate, barrier, answers = threading.Semaphore(IN_FLIGHT), threading.Barrier(RESIDENTS), []

    def post(h: dict) -> None:
        own = app.test_client()
        barrier.wait(timeout=30)
        with gate:
            response = own.post(f"/api/v1/activities/{activity_id}/signup", headers=h)
        answers.append((response.status_code, (response.get_json() or {}).get("status")))

    threads = [threading.Thread(target=post, args=(h,)) for h in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == RESIDENTS, "a request hung"
    got = Counter(answers)
    assert got == {(201, "confirmed"): SEATS, (201, "waiting"): RESIDENTS - SEATS}, got
    db.session.expire_all()
    assert db.session.get(Activity, activity_id).taken == SEATS
    assert signups.overbooked(db.session, activity_id) == 0
    first = db.session.scalar(select(Signup).where(Signup.activity_id == activity_id, Signup.status == "confirmed"))
    owner = next(h for p, h in zip(people, headers, strict=True) if p.id == first.resident_id)
    assert app.test_client().post(f"/api/v1/activities/{activity_id}/cancel", headers=owner).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.activity_id == activity_id, Signup.status == "offered")) == 1  # promoted in the cancel's own transaction


@pytest.mark.postgres
def test_a_resident_tapping_twice_at_once_signs_up_once(app, db_session, make_resident, login):
    """No lock is taken before the sign-up is written: the unique constraint makes the second of two
    racing requests wait for the first and then find its sign-up (409), without taking a seat."""
    people = [make_resident("1", "1", f"{2000 + i}", name=f"住户{i}", wxa_openid=f"wxa_t{i}") for i in range(20)]
    a = activity(db_session, people[0].community_id, capacity=10, hours=48)
    db_session.commit()
    activity_id = a.id
    headers = [login(f"t{i}") for i in range(20)]
    gate, barrier, answers = threading.Semaphore(IN_FLIGHT), threading.Barrier(40), []

    def post(h: dict) -> None:
        own = app.test_client()
        barrier.wait(timeout=30)
        with gate:
            response = own.post(f"/api/v1/activities/{activity_id}/signup", headers=h)
        answers.append((h["Authorization"], response.status_code))

    threads = [threading.Thread(target=post, args=(h,)) for h in headers + headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == 40, "a request hung"
    assert all(sorted(s for who, s in answers if who == h["Authorization"]) == [201, 409] for h in headers), answers
    db.session.expire_all()
    assert db.session.get(Activity, activity_id).taken == 10
    assert db.session.scalar(select(func.count()).select_from(Signup).where(Signup.activity_id == activity_id)) == 20
    assert signups.overbooked(db.session, activity_id) == 0
