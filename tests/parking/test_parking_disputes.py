"""Disputed plates: registering a plate another household has looks exactly like registering a free one,
both households hold a claim, notices to the plate reach neither and wait for staff, and staff settle it in
the console (CSRF-protected, recorded), after which notices reach the household kept."""

from __future__ import annotations

import pytest
from console_forms import login as console_login
from console_forms import post
from sqlalchemy import select

from app.core.db import db
from app.notify.models import Notification
from app.parking import car_notices, disputes
from app.parking.models import CarNotice, DisputeResolution, Vehicle

PLATE = "浙A12345"


@pytest.fixture
def people(make_resident, db_session, login):
    """王阿姨 (30幢, registers 浙A12345 first), 李建国 (12幢, registers it second), 赵 (5幢, sends notices);
    mini-program headers for each."""
    found = {
        "wang": make_resident("30", "2", "1201", name="王阿姨", phone="13900001111", wxa_openid="wxa_wang",
                              openid="o_wang"),
        "li": make_resident("12", "1", "502", name="李建国", phone="13700002222", wxa_openid="wxa_li",
                            openid="o_li"),
        "zhao": make_resident("5", "1", "301", name="赵大姐", phone="13600003333", wxa_openid="wxa_zhao",
                              openid="o_zhao"),
    }
    db_session.commit()
    return found, {name: login(name) for name in found}


@pytest.fixture
def disputed(people, db_session):
    """浙A12345 claimed by 王 and then by 李."""
    found, _headers = people
    car_notices.register_vehicle(db_session, found["wang"], PLATE)
    car_notices.register_vehicle(db_session, found["li"], "浙a·12345")
    db_session.commit()
    return found


@pytest.fixture
def staff_in(client, make_staff, db_session):
    def sign_in(role="property", community=None):
        staff = make_staff(role, password="right-password", community=community)
        db_session.commit()
        assert console_login(client, staff.username, "right-password").status_code == 303
        return staff

    return sign_in


def _notes(resident) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification.text).where(Notification.resident_id == resident.id)
                                   .order_by(Notification.id)))


def _without_ids(body: dict) -> dict:
    return {"vehicles": [{k: v for k, v in vehicle.items() if k not in ("id", "created_at")}
                         for vehicle in body["vehicles"]]}


def test_registering_a_taken_plate_looks_the_same_as_a_free_one(client, people):
    found, headers = people
    free = client.post("/api/v1/me/vehicles", json={"plate": PLATE}, headers=headers["wang"])
    taken = client.post("/api/v1/me/vehicles", json={"plate": "浙A 12345"}, headers=headers["li"])
    assert (taken.status_code, taken.mimetype) == (free.status_code, free.mimetype) == (200, "application/json")
    assert [sorted(v) for v in taken.get_json()["vehicles"]] == [sorted(v) for v in free.get_json()["vehicles"]]
    assert _without_ids(taken.get_json()) == _without_ids(free.get_json()) == {"vehicles": [{"plate": PLATE}]}
    listed = client.get("/api/v1/me/vehicles", headers=headers["li"]).get_json()
    assert _without_ids(listed) == _without_ids(free.get_json())
    claims = db.session.scalars(select(Vehicle).where(Vehicle.plate == PLATE).order_by(Vehicle.id)).all()
    assert [c.household_id for c in claims] == [found["wang"].household_id, found["li"].household_id]
    # the second claimant is told nothing; the first is told neutrally, without who
    assert _notes(found["li"]) == []
    [told] = _notes(found["wang"])
    assert told == disputes.ALSO_CLAIMED.format(plate=PLATE)
    assert "李建国" not in told and "12幢" not in told and "13700002222" not in told


def test_claims_count_towards_the_household_limit_and_registering_again_is_one_claim(db_session, disputed):
    li = disputed["li"]
    again = car_notices.register_vehicle(db_session, li, PLATE)
    assert len(car_notices.household_vehicles(db_session, li.household_id)) == 1 and again.plate == PLATE
    for n in range(car_notices.MAX_VEHICLES - 1):
        car_notices.register_vehicle(db_session, li, f"浙B1000{n}")
    with pytest.raises(car_notices.ValidationFailed) as refused:
        car_notices.register_vehicle(db_session, li, "浙B99999")
    assert refused.value.code == "too_many_vehicles"


def test_a_notice_to_a_disputed_plate_reaches_neither_claimant_and_waits_for_staff(client, wx, people, disputed,
                                                                                   staff_in):
    _found, headers = people
    wang, li = disputed["wang"], disputed["li"]
    before = (_notes(wang), _notes(li))
    unknown = client.post("/api/v1/car-notices", json={"plate": "浙B8K9Q2", "kind": "move"}, headers=headers["zhao"])
    sent = client.post("/api/v1/car-notices", json={"plate": PLATE, "kind": "move"}, headers=headers["zhao"])
    assert sent.status_code == unknown.status_code == 200
    body, other = sent.get_json(), unknown.get_json()
    assert sorted(body) == sorted(other) and (body["status"], other["status"]) == ("unmatched", "unmatched")
    assert body["message"] == other["message"].replace("浙B8K9Q2", PLATE)
    reply = wx.say("o_zhao", "浙A12345车灯没关")
    assert reply == "暂时无法直接联系车牌浙A12345的车主，已把您的车灯未关提醒转给物业工作人员处理。"
    assert (_notes(wang), _notes(li)) == before
    notices = db.session.scalars(select(CarNotice).where(CarNotice.plate == PLATE)).all()
    assert [(n.status, n.household_id, n.vehicle_id) for n in notices] == [("unmatched", None, None)] * 2
    assert wx.say("o_wang", "已处理") != "好的，已告诉对方车辆浙A12345已处理，谢谢配合！"
    assert client.get("/api/v1/me/car-notices", headers=headers["li"]).get_json()["notices"] == []
    staff_in()
    html = client.get("/console/parking/notices").get_data(as_text=True)
    assert html.count("车牌登记有争议，待处理") == 2 and "未登记车牌，待处理" in html  # 浙B8K9Q2


def test_staff_see_the_dispute_and_keep_one_claim(client, disputed, staff_in, db_session):
    wang, li = disputed["wang"], disputed["li"]
    staff = staff_in()
    zones = client.get("/console/parking").get_data(as_text=True)
    assert "车牌争议（1 个待核实）" in zones
    html = client.get("/console/parking/disputes").get_data(as_text=True)
    section = html.split(f'id="dispute-{PLATE}"')[1].split("</section>")[0]
    assert "30幢2单元1201" in section and "12幢1单元502" in section and "王阿姨" in section and "李建国" in section
    assert section.index("30幢2单元1201") < section.index("12幢1单元502") and "（最早）" in section
    assert section.count('name="csrf_token"') == 2
    li_claim = db.session.scalar(select(Vehicle).where(Vehicle.household_id == li.household_id))
    path = f"/console/parking/disputes/{li_claim.id}/keep"
    assert client.post(path, data={"note": "看过行驶证"}).status_code == 400  # no CSRF token
    assert db.session.scalar(select(DisputeResolution)) is None
    response = post(client, path, {"note": "看过行驶证"})
    assert response.status_code == 302
    db.session.expire_all()
    claims = db.session.scalars(select(Vehicle).where(Vehicle.plate == PLATE)).all()
    assert [c.household_id for c in claims] == [li.household_id]
    record = db.session.scalar(select(DisputeResolution))
    assert (record.plate, record.kept_household_id, record.staff_id, record.note) == (PLATE, li.household_id,
                                                                                       staff.id, "看过行驶证")
    assert [(c["household"], c["kept"]) for c in record.claims] == [("30幢2单元1201", False), ("12幢1单元502", True)]
    assert _notes(wang)[-1] == disputes.REMOVED.format(plate=PLATE)
    assert _notes(li) == [disputes.KEPT.format(plate=PLATE)]
    page = client.get("/console/parking/disputes").get_data(as_text=True)
    assert 'id="no-disputes"' in page and f'id="resolution-{record.id}"' in page and "看过行驶证" in page
    again = post(client, path, {})
    assert again.status_code == 302 and "不需要处理" in client.get("/console/parking/disputes").get_data(as_text=True)


def test_after_the_dispute_notices_reach_the_household_kept(client, people, disputed, db_session, make_staff):
    _found, headers = people
    wang, li = disputed["wang"], disputed["li"]
    wang_claim = db.session.scalar(select(Vehicle).where(Vehicle.household_id == wang.household_id))
    disputes.resolve(db_session, make_staff(), wang_claim.id, "车位合同上是王家")
    db_session.commit()
    li_before, wang_before = len(_notes(li)), len(_notes(wang))
    sent = client.post("/api/v1/car-notices", json={"plate": PLATE, "kind": "window"}, headers=headers["zhao"])
    assert sent.get_json()["status"] == "sent"
    assert len(_notes(li)) == li_before
    [to_wang] = _notes(wang)[wang_before:]
    assert "车窗" in to_wang and PLATE in to_wang and "赵大姐" not in to_wang


def test_a_claimant_removing_their_claim_ends_the_dispute(client, people, disputed):
    _found, headers = people
    [mine] = client.get("/api/v1/me/vehicles", headers=headers["li"]).get_json()["vehicles"]
    assert client.delete(f"/api/v1/me/vehicles/{mine['id']}", headers=headers["li"]).status_code == 200
    assert disputes.disputed_plates(db.session, disputed["wang"].community_id) == set()
    sent = client.post("/api/v1/car-notices", json={"plate": PLATE, "kind": "move"}, headers=headers["zhao"])
    assert sent.get_json()["status"] == "sent"


def test_staff_of_another_community_cannot_settle_it(client, disputed, staff_in, make_community):
    staff_in(community=make_community())
    assert "目前没有有争议的车牌" in client.get("/console/parking/disputes").get_data(as_text=True)
    claim = db.session.scalar(select(Vehicle).where(Vehicle.plate == PLATE).limit(1))
    assert post(client, f"/console/parking/disputes/{claim.id}/keep", {}).status_code == 302
    db.session.expire_all()
    assert len(db.session.scalars(select(Vehicle).where(Vehicle.plate == PLATE)).all()) == 2
    assert db.session.scalar(select(DisputeResolution)) is None
