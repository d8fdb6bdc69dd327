"""Residents page, dashboard counts and the scope rules behind them; the `flask staff` command."""

from __future__ import annotations

import pytest
from console_forms import login

from app.binding.bindings import start_binding
from app.community.models import Staff
from app.community.staff import authenticate, can_see_resident, residents_query, visible_buildings
from app.core.db import db
from app.core.errors import Forbidden, Unauthorized


@pytest.fixture
def signed_in(client, make_staff):
    def sign_in(role: str = "property", buildings: list[str] | None = None):
        staff = make_staff(role, password="right-password", buildings=buildings)
        assert login(client, staff.username, "right-password").status_code == 303
        return staff

    return sign_in


def names(db_session, staff, q=None) -> set[str]:
    return {r.name for r in db_session.scalars(residents_query(db_session, staff, q))}


def test_scope_limits_what_the_service_returns(db_session, make_resident, make_staff):
    a = make_resident("1", "1", "101", name="一号楼住户")
    b = make_resident("2", "1", "201", name="二号楼住户")
    c = make_resident("3", "1", "301", name="三号楼住户")
    scoped = make_staff("property", buildings=["1", "2"])
    everyone = make_staff("admin")
    assert visible_buildings(scoped) == frozenset({"1", "2"})
    assert visible_buildings(everyone) is None
    assert names(db_session, scoped) == {"一号楼住户", "二号楼住户"}
    assert names(db_session, everyone) == {"一号楼住户", "二号楼住户", "三号楼住户"}
    assert can_see_resident(scoped, a) and can_see_resident(scoped, b)
    assert not can_see_resident(scoped, c)
    assert can_see_resident(everyone, c)


def test_other_community_is_invisible_even_without_scope(db_session, make_resident, make_staff, make_community):
    resident = make_resident(name="本小区")
    outsider = make_staff("admin", community=make_community())
    assert names(db_session, outsider) == set()
    assert not can_see_resident(outsider, resident)


@pytest.mark.parametrize(("q", "expected"), [
    ("王", {"王阿姨"}),
    ("1202", {"李叔叔"}),
    ("5678", {"王阿姨"}),
    ("1幢2单元1202", {"李叔叔"}),
    ("1-1-101", {"王阿姨"}),
    ("1幢", {"王阿姨", "李叔叔"}),
    ("张", set()),
    ("%", set()),
    ("_", set()),
])
def test_search_by_name_room_phone_or_address(db_session, make_resident, make_staff, q, expected):
    make_resident("1", "1", "101", name="王阿姨", phone="13912345678")
    make_resident("1", "2", "1202", name="李叔叔", phone="13900001111")
    make_resident("3", "1", "1202", name="赵大爷", phone="13900005678")
    staff = make_staff("property", buildings=["1"])
    assert names(db_session, staff, q) == expected


def test_authenticate(db_session, make_staff):
    staff = make_staff(username="li", password="right-password")
    assert authenticate(db_session, "li", "right-password") is staff
    assert authenticate(db_session, "  li ", "right-password") is staff
    with pytest.raises(Unauthorized):
        authenticate(db_session, "li", "wrong")
    with pytest.raises(Unauthorized):
        authenticate(db_session, "nobody", "right-password")
    staff.active = False
    with pytest.raises(Forbidden):
        authenticate(db_session, "li", "right-password")
    with pytest.raises(Unauthorized):  # a wrong password never reveals that the account is inactive
        authenticate(db_session, "li", "wrong")


def test_residents_page_is_scoped_and_masks_phones(client, make_resident, signed_in):
    make_resident("1", "1", "101", name="王阿姨", phone="13912345678")
    make_resident("3", "1", "301", name="赵大爷", phone="13900005678")
    signed_in("property", ["1"])
    page = client.get("/console/residents").get_data(as_text=True)
    assert "王阿姨" in page and "139****5678" in page and "1幢1单元101" in page
    assert "13912345678" not in page
    assert "赵大爷" not in page
    found = client.get("/console/residents?q=5678").get_data(as_text=True)
    assert "王阿姨" in found and "赵大爷" not in found
    assert "共 1 人" in found


def test_residents_page_paginates(client, make_resident, signed_in):
    for i in range(25):
        make_resident("1", "1", f"{100 + i}", name=f"住户{i:02d}")
    signed_in("admin")
    first = client.get("/console/residents").get_data(as_text=True)
    assert first.count("<tr>") == 21  # header + 20
    assert "第 1 / 2 页" in first and "page=2" in first
    second = client.get("/console/residents?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 6
    for bad in ("abc", "-3", "0"):
        assert client.get(f"/console/residents?page={bad}").status_code == 200
    beyond = client.get("/console/residents?page=999")
    assert beyond.status_code == 200 and "没有找到符合条件的住户" in beyond.get_data(as_text=True)
    long_q = client.get("/console/residents?q=" + "王" * 500)
    assert long_q.status_code == 200


@pytest.mark.parametrize("role", ["repair_worker", "doctor", "committee"])
def test_residents_page_is_for_admin_and_property(client, signed_in, role):
    signed_in(role)
    resp = client.get("/console/residents")
    assert resp.status_code == 403
    assert "没有权限" in resp.get_data(as_text=True)


def test_dashboard_counts_within_scope(client, db_session, make_resident, signed_in):
    make_resident("1", "1", "101", openid="o_bound")
    waiting = make_resident("1", "1", "102")
    make_resident("3", "1", "301", openid="o_far")
    far = make_resident("3", "1", "302")
    for resident, openid in ((waiting, "o_wait"), (far, "o_far_wait")):
        household = resident.household
        start_binding(db_session, channel="oa", openid=openid, building=household.unit.building.number,
                      unit="1", room=household.room, phone=resident.phone)
    signed_in("property", ["1"])
    page = client.get("/console/").get_data(as_text=True)
    assert 'id="count-residents">2<' in page
    assert 'id="count-bound">1<' in page
    assert 'id="count-pending">1<' in page
    assert "负责范围：1 幢" in page


def test_dashboard_for_a_repair_worker_has_no_binding_tile(client, signed_in):
    signed_in("repair_worker")
    page = client.get("/console/")
    assert page.status_code == 200
    assert "count-pending" not in page.get_data(as_text=True)


def test_staff_create_command(app, make_community, client):
    make_community()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "create", "wang", "--role", "property", "--buildings", "1,2",
                                 "--password", "long-enough-pw", "--name", "王师傅"])
    assert result.exit_code == 0, result.output
    assert "已创建账号 wang" in result.output
    staff = db.session.query(Staff).filter_by(username="wang").one()
    assert staff.building_scope == ["1", "2"] and staff.role == "property" and staff.name == "王师傅"
    assert "long-enough-pw" not in staff.password_hash
    assert login(client, "wang", "long-enough-pw").status_code == 303


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "janitor", "--password", "long-enough-pw"], "janitor"),
    (["--role", "property", "--password", "short"], "密码长度须在 8 到 128 位之间"),
])
def test_staff_create_refuses_bad_input(app, make_community, args, message):
    make_community()
    result = app.test_cli_runner().invoke(args=["staff", "create", "wang", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.query(Staff).filter_by(username="wang").count() == 0


def test_staff_create_refuses_a_taken_username(app, make_staff):
    make_staff(username="wang")
    result = app.test_cli_runner().invoke(
        args=["staff", "create", "wang", "--role", "admin", "--password", "long-enough-pw"])
    assert result.exit_code != 0 and "已被使用" in result.output


def test_staff_deactivate_command_stops_login(app, client, make_staff):
    make_staff(username="wang", password="right-password")
    result = app.test_cli_runner().invoke(args=["staff", "deactivate", "wang"])
    assert result.exit_code == 0
    assert login(client, "wang", "right-password").status_code == 403
