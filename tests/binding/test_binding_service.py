"""Binding WeChat users to roster residents: by room + phone, by code, by staff, by verified phone."""

from __future__ import annotations

import pytest

from app.binding import bindings as svc
from app.binding.models import Binding
from app.core.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed


def test_room_and_phone_open_a_pending_binding_that_the_code_confirms(db_session, make_resident):
    resident = make_resident("30", "2", "1201", phone="13912345678")
    b = svc.start_binding(db_session, channel="oa", openid="o_new", building="30", unit="2", room="1201",
                          phone="139 1234 5678")
    assert b.status == "pending" and len(b.code) == 6 and b.resident_id == resident.id
    assert svc.resident_for_openid(db_session, "oa", "o_new") is None

    bound = svc.confirm_binding(db_session, channel="oa", openid="o_new", code=b.code)
    assert bound.id == resident.id and resident.oa_openid == "o_new"
    assert svc.resident_for_openid(db_session, "oa", "o_new").id == resident.id


def test_unknown_room_or_phone_is_refused_with_a_reason(db_session, make_resident):
    make_resident("30", "2", "1201", phone="13912345678")
    with pytest.raises(NotFound) as room:
        svc.start_binding(db_session, channel="oa", openid="o1", building="30", unit="2", room="9999",
                          phone="13912345678")
    assert room.value.code == "household_not_found" and "30幢2单元9999室" in room.value.message
    with pytest.raises(NotFound) as phone:
        svc.start_binding(db_session, channel="oa", openid="o1", building="30", unit="2", room="1201",
                          phone="13800000000")
    assert phone.value.code == "resident_not_found"


def test_wrong_codes_lock_the_binding_after_five_tries(db_session, make_resident):
    make_resident("3", "1", "101", phone="13700000001")
    b = svc.start_binding(db_session, channel="oa", openid="o2", building="3", unit="1", room="101",
                          phone="13700000001")
    wrong = "000000" if b.code != "000000" else "111111"
    for left in range(4, -1, -1):
        with pytest.raises(ValidationFailed) as err:
            svc.confirm_binding(db_session, channel="oa", openid="o2", code=wrong)
        assert f"{left}次" in err.value.message
    with pytest.raises(RateLimited):
        svc.confirm_binding(db_session, channel="oa", openid="o2", code=b.code)
    assert db_session.get(Binding, b.id).status == "expired"


def test_a_resident_bound_to_another_wechat_cannot_be_taken(db_session, make_resident):
    make_resident("3", "1", "102", phone="13700000002", openid="o_owner")
    with pytest.raises(Conflict) as err:
        svc.start_binding(db_session, channel="oa", openid="o_stranger", building="3", unit="1", room="102",
                          phone="13700000002")
    assert err.value.code == "resident_taken"


def test_staff_approve_within_scope_and_the_resident_is_told(db_session, make_resident, make_staff, run_jobs,
                                                             fake_wechat):
    resident = make_resident("1", "1", "101", phone="13600000001")
    far = make_resident("3", "1", "301", phone="13600000003")
    near_b = svc.start_binding(db_session, channel="oa", openid="o_near", building="1", unit="1", room="101",
                               phone="13600000001")
    far_b = svc.start_binding(db_session, channel="oa", openid="o_far", building="3", unit="1", room="301",
                              phone="13600000003")
    staff = make_staff("property", buildings=["1", "2"])
    assert [b.id for b in svc.pending_bindings(db_session, staff)] == [near_b.id]
    with pytest.raises(Forbidden):
        svc.approve_binding(db_session, far_b.id, staff)

    svc.approve_binding(db_session, near_b.id, staff)
    db_session.commit()
    run_jobs()
    assert resident.oa_openid == "o_near" and far.oa_openid is None
    sent = [c for c in fake_wechat.calls if c["path"].endswith("/message/custom/send")]
    assert sent and sent[-1]["json"]["touser"] == "o_near"
    with pytest.raises(Conflict):
        svc.approve_binding(db_session, near_b.id, staff)


def test_verified_phone_binds_at_once_but_asks_for_the_room_when_ambiguous(db_session, make_resident):
    single = make_resident("5", "1", "501", phone="13500000001")
    assert svc.bind_verified_phone(db_session, channel="wxa", openid="wxa_1", phone="+86 135 0000 0001").id == single.id
    assert single.wxa_openid == "wxa_1"

    make_resident("6", "1", "601", phone="13500000002", community=None)
    with pytest.raises(NotFound):
        svc.bind_verified_phone(db_session, channel="wxa", openid="wxa_2", phone="13999999999")
