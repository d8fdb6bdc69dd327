"""Binding approvals in the console: scope, roles, approve and reject, the page and the JSON API."""

from __future__ import annotations

import pytest
from console_forms import csrf_token, login, post

from app.binding.bindings import start_binding
from app.binding.models import Binding
from app.core.db import db


@pytest.fixture
def request_binding(db_session, make_resident):
    """request_binding(building="1", room="101", openid=...) -> (resident, pending Binding)."""

    def make(building: str = "1", room: str = "101", openid: str | None = None, name: str = "王阿姨"):
        resident = make_resident(building, "1", room, name=name)
        binding = start_binding(db_session, channel="oa", openid=openid or f"o_{building}_{room}",
                                building=building, unit="1", room=room, phone=resident.phone)
        db_session.commit()  # committed, as in life: a refused decision rolls the view's session back
        return resident, binding

    return make


@pytest.fixture
def signed_in(client, make_staff):
    """signed_in(role, buildings) -> the Staff, signed in on `client`."""

    def sign_in(role: str = "property", buildings: list[str] | None = None):
        staff = make_staff(role, password="right-password", buildings=buildings)
        db.session.commit()
        assert login(client, staff.username, "right-password").status_code == 303
        return staff

    return sign_in


def test_page_lists_pending_bindings_in_scope_with_the_code(client, request_binding, signed_in):
    _, mine = request_binding("1", "101", name="王阿姨")
    _, theirs = request_binding("3", "301", name="赵大爷")
    signed_in("property", ["1", "2"])
    page = client.get("/console/bindings").get_data(as_text=True)
    assert "王阿姨" in page and mine.code in page and "1幢1单元101" in page
    assert "赵大爷" not in page and theirs.code not in page
    assert f"binding-{theirs.id}" not in page


def test_phone_is_masked_on_the_page(client, request_binding, signed_in):
    resident, _ = request_binding()
    signed_in("admin")
    page = client.get("/console/bindings").get_data(as_text=True)
    assert resident.masked_phone in page


def test_approve_binds_the_resident_and_tells_them_in_wechat(client, request_binding, signed_in,
                                                             run_jobs, fake_wechat):
    resident, binding = request_binding(openid="o_wang")
    signed_in("property", ["1"])
    resp = post(client, f"/console/bindings/{binding.id}/approve")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/bindings")
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Binding, binding.id).status == "confirmed"
    assert resident.oa_openid == "o_wang"
    sent = [m for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]
    assert len(sent) == 1 and "已确认" in sent[0]["text"]["content"]
    page = client.get("/console/bindings").get_data(as_text=True)
    assert "已确认绑定：王阿姨（1幢1单元101）" in page
    assert "没有待审核的绑定申请" in page


def test_reject_records_the_reason_and_tells_the_resident(client, request_binding, signed_in,
                                                          run_jobs, fake_wechat):
    resident, binding = request_binding(openid="o_wang")
    signed_in("property", ["1"])
    resp = post(client, f"/console/bindings/{binding.id}/reject", {"reason": "电话核实不是本人"})
    assert resp.status_code == 303
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Binding, binding.id).status == "rejected"
    assert resident.oa_openid is None
    sent = [m for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]
    assert len(sent) == 1 and "电话核实不是本人" in sent[0]["text"]["content"]
    assert "已拒绝该绑定申请" in client.get("/console/bindings").get_data(as_text=True)


def test_too_long_reason_is_refused_with_a_message(client, request_binding, signed_in):
    _, binding = request_binding()
    signed_in("property")
    post(client, f"/console/bindings/{binding.id}/reject", {"reason": "长" * 101})
    db.session.expire_all()
    assert db.session.get(Binding, binding.id).status == "pending"
    assert "不要超过 100 个字" in client.get("/console/bindings").get_data(as_text=True)


def test_staff_of_building_1_cannot_approve_building_3(client, request_binding, signed_in):
    resident, binding = request_binding("3", "301")
    signed_in("property", ["1"])
    post(client, f"/console/bindings/{binding.id}/approve")
    db.session.expire_all()
    assert db.session.get(Binding, binding.id).status == "pending"
    assert resident.oa_openid is None
    assert "不在您负责的范围内" in client.get("/console/bindings").get_data(as_text=True)


def test_staff_of_building_1_cannot_reject_building_3(client, request_binding, signed_in):
    _, binding = request_binding("3", "301")
    signed_in("property", ["1"])
    post(client, f"/console/bindings/{binding.id}/reject", {"reason": "x"})
    db.session.expire_all()
    assert db.session.get(Binding, binding.id).status == "pending"


def test_staff_of_another_community_sees_nothing(client, request_binding, make_community, make_staff):
    request_binding("1", "101")
    other = make_staff("admin", password="right-password", community=make_community())
    login(client, other.username, "right-password")
    assert "没有待审核的绑定申请" in client.get("/console/bindings").get_data(as_text=True)


def test_deciding_twice_is_a_message_not_an_error(client, request_binding, signed_in):
    _, binding = request_binding()
    signed_in("property")
    post(client, f"/console/bindings/{binding.id}/approve")
    resp = post(client, f"/console/bindings/{binding.id}/reject", {"reason": "x"})
    assert resp.status_code == 303
    assert "已处理或已过期" in client.get("/console/bindings").get_data(as_text=True)
    post(client, "/console/bindings/999999/approve")
    assert "没有这条绑定申请" in client.get("/console/bindings").get_data(as_text=True)
    huge = post(client, f"/console/bindings/{10**20}/approve")
    assert huge.status_code == 404 and huge.mimetype == "text/html"


@pytest.mark.parametrize("role", ["repair_worker", "doctor", "committee"])
def test_other_roles_get_403(client, request_binding, signed_in, role):
    _, binding = request_binding()
    signed_in(role)
    page = client.get("/console/bindings")
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "没有权限" in page.get_data(as_text=True)
    assert post(client, f"/console/bindings/{binding.id}/approve").status_code == 403
    db.session.expire_all()
    assert db.session.get(Binding, binding.id).status == "pending"
    assert "绑定审核" not in client.get("/console/").get_data(as_text=True)  # not in their menu


def test_approve_without_csrf_token_is_refused(client, request_binding, signed_in):
    _, binding = request_binding()
    signed_in("property")
    resp = client.post(f"/console/bindings/{binding.id}/approve")
    assert resp.status_code == 400
    assert "请刷新页面后重试" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Binding, binding.id).status == "pending"


def test_api_takes_the_token_in_a_header(client, request_binding, signed_in):
    resident, binding = request_binding(openid="o_api")
    signed_in("property")
    refused = client.post(f"/console/api/bindings/{binding.id}/approve", json={})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    forged = client.post(f"/console/api/bindings/{binding.id}/approve", headers={"X-CSRF-Token": "nope"})
    assert forged.status_code == 400
    ok = client.post(f"/console/api/bindings/{binding.id}/approve",
                     headers={"X-CSRF-Token": csrf_token(client)})
    assert ok.status_code == 200
    assert ok.get_json() == {"binding_id": binding.id, "status": "confirmed", "resident_id": resident.id}


def test_api_errors_are_json(client, request_binding, signed_in):
    _, binding = request_binding("3", "301")
    signed_in("property", ["1"])
    headers = {"X-CSRF-Token": csrf_token(client)}
    resp = client.post(f"/console/api/bindings/{binding.id}/reject", json={"reason": "x"}, headers=headers)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "out_of_scope"
