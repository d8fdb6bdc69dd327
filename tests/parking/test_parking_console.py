"""Console parking: zones with counts and stale marks, a zone's day and week chart, car notices for staff
(unknown plates closed with the sender told, staff sending by plate), roles and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from console_forms import login, post
from parking_setup import zone_for
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.db import db
from app.core.sealed import unseal
from app.notify.models import Notification
from app.parking import car_notices, parking
from app.parking.models import CarNotice


@pytest.fixture
def staff_in(client, make_staff, db_session):
    def sign_in(role="property"):
        staff = make_staff(role, password="right-password")
        db_session.commit()
        assert login(client, staff.username, "right-password").status_code == 303
        return staff

    return sign_in


@pytest.fixture
def zones(db_session, make_household):
    now = utcnow()
    fresh = zone_for(db_session, make_household, "30", fixed_occupied=8, temporary_occupied=1, at=now)
    old = zone_for(db_session, make_household, "12", fixed_occupied=2, at=now - timedelta(minutes=30))
    for minutes in range(0, 600, 5):  # ten hours of history for 30幢, and a count a few days back
        at = now - timedelta(minutes=minutes)
        parking.record_sample(db_session, fresh, fixed_occupied=minutes % 10, temporary_occupied=2, at=at)
    parking.record_sample(db_session, fresh, fixed_occupied=4, temporary_occupied=4, at=now - timedelta(days=3))
    db_session.commit()
    return {"fresh": fresh, "old": old}


def test_zones_page_shows_counts_and_marks_stale_data(client, staff_in, zones):
    staff_in()
    html = client.get("/console/parking").get_data(as_text=True)
    assert 'id="zone-table"' in html and "30幢" in html and "8/10" in html
    row_old = html.split(f'id="zone-{zones["old"].id}"')[1].split("</tr>")[0]
    assert "数据过期" in row_old
    row_fresh = html.split(f'id="zone-{zones["fresh"].id}"')[1].split("</tr>")[0]
    assert "数据过期" not in row_fresh and ">2</td>" in row_fresh


def test_zone_page_charts_a_day_and_a_week_without_scripts(client, staff_in, zones):
    staff_in()
    response = client.get(f"/console/parking/zones/{zones['fresh'].id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    day_svg = html.split('id="chart-day-svg"')[1].split("</figure>")[0]
    week_svg = html.split('id="chart-week-svg"')[1].split("</figure>")[0]
    assert day_svg.count("<svg") == 1 and 'class="series-fixed"' in day_svg and 'class="series-temporary"' in day_svg
    points = day_svg.split('class="series-fixed"')[1].split('points="')[1].split('"')[0].split()
    assert len(points) >= 1  # today's 5-minute samples (how many depends on the hour the test runs)
    assert 'class="series-fixed"' in week_svg and "<script" not in html.split("<main")[1]
    assert "http" not in day_svg.replace("http://www.w3.org/2000/svg", "")
    empty = client.get(f"/console/parking/zones/{zones['fresh'].id}?date=2020-01-01").get_data(as_text=True)
    assert "这段时间没有数据" in empty


def test_other_roles_and_other_communities_are_kept_out(client, staff_in, zones, make_community, db_session,
                                                         make_household):
    staff_in("doctor")
    assert client.get("/console/parking").status_code == 403
    client.get("/console/logout")
    staff_in()
    other = make_community()
    foreign = zone_for(db_session, make_household, "7", community=other)
    db_session.commit()
    assert client.get(f"/console/parking/zones/{foreign.id}").status_code == 404


def test_unknown_plates_wait_for_staff_and_the_sender_is_told_when_closed(client, staff_in, make_resident,
                                                                          db_session):
    wang = make_resident("30", "2", "1201", name="王阿姨")
    notice = car_notices.send_notice(db_session, None, community_id=wang.community_id, plate="浙B8K9Q2",
                                     kind="move", resident=wang)
    db_session.commit()
    staff_in()
    html = client.get("/console/parking/notices").get_data(as_text=True)
    assert "浙B8K9Q2" in html and "未登记车牌，待处理" in html
    assert client.post(f"/console/parking/notices/{notice.id}/close", data={"note": "已广播"}).status_code == 400
    assert post(client, f"/console/parking/notices/{notice.id}/close", {"note": "已电话联系保安"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(CarNotice, notice.id).status == "closed"
    told = db.session.scalars(select(Notification.text).where(Notification.resident_id == wang.id)).all()
    assert told == ["您关于车辆浙B8K9Q2的提醒，物业工作人员已处理。"]


def test_staff_send_a_notice_by_plate(client, staff_in, make_resident, db_session):
    li = make_resident("12", "1", "502", name="李建国")
    car_notices.register_vehicle(db_session, li, "浙A12345")
    db_session.commit()
    staff = staff_in()
    response = post(client, "/console/parking/notices", {"plate": "浙A12345", "kind": "lights"})
    assert response.status_code == 302
    page = client.get("/console/parking/notices").get_data(as_text=True)
    assert "已把车灯未关提醒发给车牌浙A12345的车主" in page
    [text] = db.session.scalars(select(Notification.text).where(Notification.resident_id == li.id)).all()
    assert "车灯没有关" in text and staff.name not in text
    bad = post(client, "/console/parking/notices", {"plate": "nonsense", "kind": "move"})
    assert bad.status_code == 302 and "车牌号格式不对" in client.get("/console/parking/notices").get_data(as_text=True)


def test_staff_add_zones_and_an_admin_adds_a_device_whose_secret_is_shown_once(client, staff_in, zones, app,
                                                                               db_session):
    from app.core.redis_conn import get_redis

    staff = staff_in("admin")
    conn = get_redis(app)
    parking.availability(db_session, conn, staff.community_id)  # a cached hash, which a new zone must refresh
    added = post(client, "/console/parking/setup/zones", {"code": "north-lot", "name": "北门停车场", "building": "",
                                                          "fixed_capacity": "0", "temporary_capacity": "30"})
    assert added.status_code == 302
    assert "北门停车场" in client.get("/console/parking").get_data(as_text=True)
    bad = post(client, "/console/parking/setup/zones", {"code": "B99", "name": "99幢", "building": "99",
                                                        "fixed_capacity": "3", "temporary_capacity": "1"})
    assert bad.status_code == 302 and "没有99幢" in client.get("/console/parking/setup").get_data(as_text=True)
    dup = post(client, "/console/parking/setup/zones", {"code": "B30", "name": "30幢", "building": "30",
                                                        "fixed_capacity": "3", "temporary_capacity": "1"})
    assert dup.status_code == 302 and "已存在" in client.get("/console/parking/setup").get_data(as_text=True)
    created = post(client, "/console/parking/setup/devices", {"name": "30幢路口", "zones": "B30"})
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    from app.parking.models import ParkingDevice

    device = db.session.scalar(select(ParkingDevice))
    shown = re.search(r'id="device-secret">([0-9a-f]{64})<', html).group(1)  # shown this once
    assert unseal(device.secret, app.config["SECRET_KEY"]) == shown and shown not in device.secret
    assert device.zone_ids == [zones["fresh"].id]
    listing = client.get("/console/parking/setup").get_data(as_text=True)
    assert device.key_id in listing and shown not in listing


def test_only_admins_add_devices(client, staff_in, zones):
    staff_in("property")
    assert "add-device" not in client.get("/console/parking/setup").get_data(as_text=True)
    assert post(client, "/console/parking/setup/devices", {"name": "x"}).status_code == 403
