"""/api/v1/clinic: services, slots, book / cancel / reschedule / mine, waitlist, own health data, the kiosk,
and many simultaneous requests for the last seats (exactly that many booked, the rest 已约满, no 500)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from clinic_world import build_clinic
from sqlalchemy import select

from app.clinic import clinic as clinic_service
from app.clinic.models import Booking, HealthRecord, KioskDevice, Slot
from app.community.models import Community
from app.core.clock import utcnow
from app.core.db import db

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def world(db_session, make_resident, login):
    """王阿姨 signed in, with a clinic in her community."""
    wang = make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    built = build_clinic(db_session, wang.community_id)
    db_session.commit()
    return {"wang": wang, "clinic": built, "headers": login("wang")}


def _book(client, headers, slot_id, status=201):
    response = client.post("/api/v1/clinic/bookings", json={"slot_id": slot_id}, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_services_slots_book_and_list(client, db_session, world):
    clinic, headers = world["clinic"], world["headers"]
    services = client.get("/api/v1/clinic/services", headers=headers).get_json()["services"]
    assert {s["code"] for s in services} >= {"blood_pressure", "ecg", "home_visit", "vaccination"}
    day = NOW + timedelta(days=2)
    first = clinic.slot(db_session, "ecg", day, capacity=2)
    full = clinic.slot(db_session, "ecg", day + timedelta(hours=1), booked=1)
    clinic.slot(db_session, "ecg", NOW + timedelta(minutes=20))  # inside the minimum notice: not listed
    db_session.commit()
    slots = client.get("/api/v1/clinic/slots?service=ecg", headers=headers).get_json()["slots"]
    assert [(s["id"], s["seats"], s["full"]) for s in slots] == [(first.id, 2, False), (full.id, 0, True)]
    booked = _book(client, headers, first.id)
    assert booked["status"] == "booked" and booked["number"].startswith("YY") and booked["can_cancel"] is True
    assert booked["slot"]["provider"] == "陈文医生" and booked["service"] == "ecg"
    mine = client.get("/api/v1/clinic/bookings?upcoming=1", headers=headers).get_json()["bookings"]
    assert [b["id"] for b in mine] == [booked["id"]]
    again = _book(client, headers, first.id, status=409)
    assert again["error"]["code"] == "already_booked"
    no_seat = _book(client, headers, full.id, status=409)
    assert no_seat["error"]["code"] == "slot_full" and "已约满" in no_seat["error"]["message"]


def test_cancel_reschedule_and_waitlist(client, db_session, world, make_resident, login):
    clinic, headers = world["clinic"], world["headers"]
    a = clinic.slot(db_session, "checkup", NOW + timedelta(days=2))
    b = clinic.slot(db_session, "checkup", NOW + timedelta(days=3))
    make_resident("5", "1", "101", name="赵大爷", wxa_openid="wxa_zhao",
                         community=db_session.get(Community, world["wang"].community_id))
    db_session.commit()
    zhao_headers = login("zhao")
    booking = _book(client, headers, a.id)
    waiting = client.post("/api/v1/clinic/waitlist", json={"slot_id": a.id}, headers=zhao_headers)
    assert waiting.status_code == 201 and waiting.get_json()["status"] == "waiting"
    moved = client.post(f"/api/v1/clinic/bookings/{booking['id']}/reschedule", json={"slot_id": b.id},
                        headers=headers)
    assert moved.status_code == 200 and moved.get_json()["slot"]["id"] == b.id
    assert client.get("/api/v1/clinic/bookings", headers=zhao_headers).get_json()["bookings"] == []
    taken = _book(client, zhao_headers, a.id)  # the freed seat, told to the waitlist
    assert taken["status"] == "booked"
    others = client.post(f"/api/v1/clinic/bookings/{taken['id']}/cancel", headers=headers)
    assert others.status_code == 404  # someone else's booking is not found
    cancelled = client.post(f"/api/v1/clinic/bookings/{moved.get_json()['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    statuses = client.get("/api/v1/clinic/bookings", headers=headers).get_json()["bookings"]
    assert sorted(s["status"] for s in statuses) == ["cancelled", "cancelled"]


def test_bad_requests_are_4xx(client, world):
    headers = world["headers"]
    assert client.get("/api/v1/clinic/slots?service=haircut", headers=headers).status_code == 404
    bad_date = client.get("/api/v1/clinic/slots?service=ecg&date=tomorrow", headers=headers)
    assert bad_date.status_code == 422 and bad_date.get_json()["error"]["code"] == "bad_date"
    assert client.post("/api/v1/clinic/bookings", json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/clinic/bookings", json={"slot_id": 999999}, headers=headers).status_code == 404
    assert client.get("/api/v1/clinic/bookings").status_code == 401


def test_kiosk_measurements_set_the_colour_and_residents_export_their_data(client, db_session, world):
    wang = world["wang"]
    db_session.add(KioskDevice(community_id=wang.community_id, name="卫生站自助机",
                               token_hash=clinic_service.hash_device_token("kiosk-secret")))
    db_session.commit()
    body = {"phone": wang.phone, "kind": "blood_pressure", "values": {"systolic": 165, "diastolic": 95}}
    assert client.post("/api/v1/clinic/kiosk/measurements", json=body).status_code == 401
    assert client.post("/api/v1/clinic/kiosk/measurements", json=body,
                       headers={"X-Kiosk-Token": "wrong"}).status_code == 401
    kiosk = {"X-Kiosk-Token": "kiosk-secret"}
    saved = client.post("/api/v1/clinic/kiosk/measurements", json=body, headers=kiosk)
    assert saved.status_code == 201 and saved.get_json()["resident_colour"] == "red"
    bad = client.post("/api/v1/clinic/kiosk/measurements", headers=kiosk,
                      json={"phone": wang.phone, "kind": "blood_glucose", "values": {"value": "high"}})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_measurement"
    unknown = client.post("/api/v1/clinic/kiosk/measurements", headers=kiosk, json={**body, "phone": "13900000000"})
    assert unknown.status_code == 404
    mine = client.get("/api/v1/clinic/health?format=download", headers=world["headers"])
    assert "attachment" in mine.headers["Content-Disposition"]
    data = mine.get_json()
    assert data["colour"] == "red" and data["measurements"][0]["values"] == {"systolic": 165, "diastolic": 95}
    tags = {t.name for t in db.session.get(type(wang), wang.id).tags}
    assert "health:red" in tags


def test_red_residents_may_take_reserved_seats_through_the_api(client, db_session, world):
    clinic = world["clinic"]
    slot = clinic.slot(db_session, "general", NOW + timedelta(days=1), capacity=1, reserved=1)
    db_session.commit()
    listed = client.get("/api/v1/clinic/slots?service=general", headers=world["headers"]).get_json()["slots"]
    assert listed[0]["seats"] == 0
    _book(client, world["headers"], slot.id, status=409)
    db_session.add(HealthRecord(resident_id=world["wang"].id, colour="red", source="doctor", note="随访"))
    db_session.commit()
    _book(client, world["headers"], slot.id)


def test_simultaneous_requests_for_the_last_seats(app, client, db_session, world, make_resident, login):
    """20 residents post at once for 4 remaining seats: exactly 4 bookings, 16 clear 已约满 answers, no 500."""
    community = db_session.get(Community, world["wang"].community_id)
    for i in range(20):
        make_resident("7", "1", f"{300 + i}", name=f"住户{i}", wxa_openid=f"wxa_race{i}", community=community)
    slot = world["clinic"].slot(db_session, "vaccination", NOW + timedelta(days=2), capacity=6, booked=2)
    db_session.commit()
    slot_id = slot.id
    headers = [login(f"race{i}") for i in range(20)]
    sqlite = db.engine.dialect.name == "sqlite"
    serial = threading.Lock()  # one shared in-memory SQLite connection: requests take turns
    barrier = threading.Barrier(len(headers))
    answers: list[tuple[int, dict]] = []

    def post(h: dict) -> None:
        own = app.test_client()
        barrier.wait()
        if sqlite:
            with serial:
                response = own.post("/api/v1/clinic/bookings", json={"slot_id": slot_id}, headers=h)
        else:
            response = own.post("/api/v1/clinic/bookings", json={"slot_id": slot_id}, headers=h)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post, args=(h,)) for h in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(code for code, _ in answers)
    assert codes == [201] * 4 + [409] * 16, answers
    assert all(body["error"]["code"] == "slot_full" and "已约满" in body["error"]["message"]
               for code, body in answers if code == 409)
    db.session.expire_all()
    assert db.session.get(Slot, slot_id).booked == 6
    assert len(db.session.scalars(select(Booking).where(Booking.slot_id == slot_id)).all()) == 4
