"""One resident's bookings racing each other (issue 16.7): the active-bookings limit and the time-clash rule
hold when the requests arrive at once, as they do one after another.

The racing tests need PostgreSQL (in-memory SQLite has one shared connection, where requests cannot
overlap): each thread posts through its own test client, so each request has its own session. At most
12 race at once: a request that commits outbox rows relays them on a second pooled connection while it
still holds its first, so more requests committing together than half the pool (15) would wait for each
other's connections, a different problem from the one tested here."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from clinic_world import build_clinic
from sqlalchemy import func, select

from app.clinic.clinic import SERVICE_LABELS
from app.clinic.models import ACTIVE_STATUSES, Booking
from app.core.clock import utcnow
from app.core.db import db


@pytest.fixture
def world(db_session, make_resident, login):
    """王阿姨 signed in to the mini-program, and a clinic in her community (2 active bookings per service)."""
    wang = make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    clinic = build_clinic(db_session, wang.community_id)
    db_session.commit()
    return {"wang_id": wang.id, "clinic": clinic, "headers": login("wang")}


def _tomorrow():
    return utcnow().replace(microsecond=0) + timedelta(days=1)


def _post_at_once(app, headers: dict, slot_ids: list[int]) -> list[tuple[int, dict]]:
    """Post one booking per slot, all released together by a barrier, each through its own client."""
    barrier = threading.Barrier(len(slot_ids))
    answers: list[tuple[int, dict]] = []

    def post(slot_id: int) -> None:
        own = app.test_client()
        barrier.wait(timeout=10)
        response = own.post("/api/v1/clinic/bookings", json={"slot_id": slot_id}, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post, args=(slot_id,)) for slot_id in slot_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == len(slot_ids), "a request hung"
    return answers


def _active(resident_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.resident_id == resident_id, Booking.status.in_(ACTIVE_STATUSES))) or 0


@pytest.mark.postgres
def test_twelve_parallel_bookings_of_one_resident_stop_at_the_limit(app, db_session, world):
    """The audit's case (20 at once gave 16 active bookings), with 12: the limit is 2."""
    start = _tomorrow()
    slot_ids = [world["clinic"].slot(db_session, "ecg", start + timedelta(hours=i), capacity=5).id for i in range(12)]
    db_session.commit()
    answers = _post_at_once(app, world["headers"], slot_ids)
    codes = sorted(code for code, _ in answers)
    assert codes == [201] * 2 + [409] * 10, f"{Counter(codes)}, active bookings: {_active(world['wang_id'])}"
    assert {body["error"]["code"] for code, body in answers if code == 409} == {"booking_limit"}
    assert _active(world["wang_id"]) == 2


@pytest.mark.postgres
def test_parallel_bookings_at_one_hour_in_different_services_book_one(app, db_session, world):
    """Each service's limit would allow one more, but she cannot be in two places at once: one wins."""
    at = _tomorrow() + timedelta(hours=2)
    codes = [code for code in SERVICE_LABELS if code != "home_visit"]
    slot_ids = [world["clinic"].slot(db_session, code, at, capacity=5).id for code in codes]
    db_session.commit()
    answers = _post_at_once(app, world["headers"], slot_ids)
    got = sorted(code for code, _ in answers)
    assert got == [201] + [409] * (len(codes) - 1), f"{Counter(got)}, active bookings: {_active(world['wang_id'])}"
    assert {body["error"]["code"] for code, body in answers if code == 409} == {"time_clash"}
    assert _active(world["wang_id"]) == 1


def test_one_after_another_the_third_booking_of_a_service_is_refused(client, db_session, world):
    start, headers = _tomorrow(), world["headers"]
    slots = [world["clinic"].slot(db_session, "ecg", start + timedelta(hours=i), capacity=5).id for i in range(3)]
    other = world["clinic"].slot(db_session, "blood_pressure", start + timedelta(hours=5), capacity=5).id
    db_session.commit()
    first, second, third = (client.post("/api/v1/clinic/bookings", json={"slot_id": s}, headers=headers)
                            for s in slots)
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 409)
    refused = third.get_json()["error"]
    assert refused["code"] == "booking_limit" and "最多同时预约2个时段" in refused["message"]
    assert client.post("/api/v1/clinic/bookings", json={"slot_id": other}, headers=headers).status_code == 201
    # Cancelling one gives its place back.
    cancelled = client.post(f"/api/v1/clinic/bookings/{first.get_json()['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.get_json()
    assert client.post("/api/v1/clinic/bookings", json={"slot_id": slots[2]}, headers=headers).status_code == 201
    assert _active(world["wang_id"]) == 3  # two ecg, one blood pressure


def test_at_the_limit_a_booking_can_still_be_moved(client, db_session, world):
    """Rescheduling books the new slot inside the same turn as giving up the old one: the limit counts it once."""
    start, headers = _tomorrow(), world["headers"]
    slots = [world["clinic"].slot(db_session, "ecg", start + timedelta(hours=i), capacity=5).id for i in range(3)]
    db_session.commit()
    booked = [client.post("/api/v1/clinic/bookings", json={"slot_id": s}, headers=headers).get_json()
              for s in slots[:2]]
    moved = client.post(f"/api/v1/clinic/bookings/{booked[0]['id']}/reschedule", json={"slot_id": slots[2]},
                        headers=headers)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["slot"]["id"] == slots[2]
    assert _active(world["wang_id"]) == 2
