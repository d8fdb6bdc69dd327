"""/api/v1 parking: every zone's availability (stale counts withheld), my vehicles, car notices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from parking_setup import zone_for
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.db import db
from app.notify.models import Notification
from app.parking.models import CarNotice, Vehicle


@pytest.fixture
def wang(make_resident, db_session, login):
    """王阿姨 of 30幢2单元1201 in the mini-program; returns her auth headers."""
    make_resident("30", "2", "1201", name="王阿姨", phone="13900001111", wxa_openid="wxa_wang")
    db_session.commit()
    return login("wang")


@pytest.fixture
def li(make_resident, db_session, login):
    make_resident("12", "1", "502", name="李建国", phone="13700002222", wxa_openid="wxa_li")
    db_session.commit()
    return login("li")


def test_all_zones_with_free_counts_and_stale_ones_withheld(client, wang, db_session, make_household):
    now = utcnow()
    zone_for(db_session, make_household, "30", fixed_occupied=9, temporary_occupied=2,
             at=now - timedelta(minutes=2))
    zone_for(db_session, make_household, "12", fixed_occupied=1, at=now - timedelta(minutes=40))
    zone_for(db_session, make_household, "5")  # never counted
    db_session.commit()
    body = client.get("/api/v1/parking/zones", headers=wang).get_json()
    assert body["stale_minutes"] == 10
    zones = {z["name"]: z for z in body["zones"]}
    assert [z["name"] for z in body["zones"]] == ["5幢", "12幢", "30幢"]  # walking order
    mine = zones["30幢"]
    assert (mine["fixed_free"], mine["temporary_free"], mine["stale"], mine["age_minutes"]) == (1, 3, False, 2)
    assert (mine["mine"], mine["building"], mine["fixed_capacity"], mine["temporary_capacity"]) == (True, "30", 10, 5)
    assert (zones["12幢"]["stale"], zones["12幢"]["fixed_free"], zones["12幢"]["age_minutes"]) == (True, None, 40)
    assert (zones["5幢"]["stale"], zones["5幢"]["updated_at"], zones["5幢"]["temporary_free"]) == (True, None, None)


def test_zones_need_a_bound_resident(client, login):
    response = client.get("/api/v1/parking/zones", headers=login("nobody"))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_bound"


def test_register_list_and_remove_vehicles(client, wang, li):
    added = client.post("/api/v1/me/vehicles", json={"plate": "浙a 12345"}, headers=wang)
    assert added.status_code == 200 and [v["plate"] for v in added.get_json()["vehicles"]] == ["浙A12345"]
    again = client.post("/api/v1/me/vehicles", json={"plate": "浙A12345"}, headers=wang)
    assert len(again.get_json()["vehicles"]) == 1
    taken = client.post("/api/v1/me/vehicles", json={"plate": "浙A·12345"}, headers=li)  # 王's plate: a 2nd claim
    assert taken.status_code == 200 and [v["plate"] for v in taken.get_json()["vehicles"]] == ["浙A12345"]
    bad = client.post("/api/v1/me/vehicles", json={"plate": "12345"}, headers=wang)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_plate"
    vehicle_id = added.get_json()["vehicles"][0]["id"]
    other = client.delete(f"/api/v1/me/vehicles/{vehicle_id}", headers=li)
    assert other.status_code == 404
    removed = client.delete(f"/api/v1/me/vehicles/{vehicle_id}", headers=wang)
    assert removed.status_code == 200 and removed.get_json()["vehicles"] == []
    assert db.session.scalars(select(Vehicle.plate)).all() == ["浙A12345"]  # 李's claim stays


def test_send_a_car_notice_without_identities(client, wang, li):
    client.post("/api/v1/me/vehicles", json={"plate": "浙A12345"}, headers=li)
    sent = client.post("/api/v1/car-notices", json={"plate": "浙A12345", "kind": "window"}, headers=wang)
    assert sent.status_code == 200, sent.get_json()
    body = sent.get_json()
    assert (body["status"], body["kind"], body["plate"]) == ("sent", "window", "浙A12345")
    assert "李建国" not in body["message"] and "13700002222" not in body["message"] and "12幢" not in body["message"]
    [text] = db.session.scalars(select(Notification.text)).all()
    assert "车窗" in text and "王阿姨" not in text and "13900001111" not in text and "30幢" not in text
    assert db.session.scalar(select(CarNotice.source)) == "wxa"


def test_car_notice_errors(client, wang):
    unknown = client.post("/api/v1/car-notices", json={"plate": "浙B8K9Q2", "kind": "move"}, headers=wang)
    assert unknown.get_json()["status"] == "unmatched" and "物业" in unknown.get_json()["message"]
    empty = client.post("/api/v1/car-notices", json={"plate": "浙B8K9Q2", "kind": "text"}, headers=wang)
    assert empty.status_code == 422 and empty.get_json()["error"]["code"] == "missing_field"
    kind = client.post("/api/v1/car-notices", json={"plate": "浙B8K9Q2", "kind": "horn"}, headers=wang)
    assert kind.status_code == 422 and kind.get_json()["error"]["code"] == "invalid_kind"
    for _ in range(2):
        client.post("/api/v1/car-notices", json={"plate": "浙B8K9Q2", "kind": "lights"}, headers=wang)
    limited = client.post("/api/v1/car-notices", json={"plate": "浙B8K9Q2", "kind": "lights"}, headers=wang)
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "plate_rate_limited"


def test_the_owner_sees_notices_about_the_car_and_marks_one_handled(client, wang, li):
    client.post("/api/v1/me/vehicles", json={"plate": "浙A12345"}, headers=li)
    sent = client.post("/api/v1/car-notices", json={"plate": "浙A12345", "kind": "move"}, headers=wang).get_json()
    [notice] = client.get("/api/v1/me/car-notices", headers=li).get_json()["notices"]
    assert (notice["id"], notice["status"], notice["plate"]) == (sent["id"], "sent", "浙A12345")
    assert "王阿姨" not in notice["text"] and "13900001111" not in notice["text"]
    assert client.post(f"/api/v1/me/car-notices/{sent['id']}/handled", headers=wang).status_code == 404
    done = client.post(f"/api/v1/me/car-notices/{sent['id']}/handled", headers=li)
    assert done.status_code == 200 and done.get_json()["notices"][0]["status"] == "handled"
    again = client.post(f"/api/v1/me/car-notices/{sent['id']}/handled", headers=li)
    assert again.status_code == 409
    told = db.session.scalars(select(Notification.text).order_by(Notification.id.desc())).first()
    assert told == "您提醒的车辆浙A12345，车主已回复：已处理。感谢您的提醒！"
