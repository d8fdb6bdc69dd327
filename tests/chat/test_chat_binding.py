"""Binding in chat, end to end through /wechat: 绑定, room, phone, code or staff approval, 取消."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.binding import bindings as binding_service
from app.binding.models import Binding
from app.chat.core import ASK_ROOM_AND_PHONE, BIND_HINT, CANCELLED
from app.chat.models import Conversation
from app.community.models import Resident
from app.core.db import db


@pytest.fixture
def wang(make_resident, db_session) -> Resident:
    resident = make_resident("3", "2", "1201", name="王阿姨", phone="13912345678")
    db_session.commit()
    return resident


def _pending(openid: str) -> Binding:
    return db.session.scalar(select(Binding).where(Binding.openid == openid, Binding.status == "pending"))


def test_room_then_phone_then_the_code_binds_the_resident(wx, wang):
    assert BIND_HINT in wx.say("o_wang", "你好")
    assert wx.say("o_wang", "绑定") == ASK_ROOM_AND_PHONE
    assert wx.say("o_wang", "3幢2单元1201").startswith("房号已记下")
    submitted = wx.say("o_wang", "13912345678")
    assert "已提交绑定申请：3幢2单元1201" in submitted and "139****5678" in submitted
    code = _pending("o_wang").code
    wrong = "000000" if code != "000000" else "111111"
    assert "还可以再试4次" in wx.say("o_wang", wrong)
    done = wx.say("o_wang", code)
    assert done.startswith("绑定成功！王阿姨") and "3幢2单元1201" in done
    db.session.expire_all()
    assert db.session.get(Resident, wang.id).oa_openid == "o_wang"
    conversation = db.session.scalar(select(Conversation).where(Conversation.openid == "o_wang"))
    assert conversation.resident_id == wang.id and "flow" not in conversation.dialog
    assert wx.say("o_wang", "绑定").startswith("您已绑定3幢2单元1201")
    assert BIND_HINT not in wx.say("o_wang", "今天天气怎么样")


def test_phone_first_and_chinese_numerals_work_too(wx, wang):
    wx.say("o_wang2", "认证")
    assert wx.say("o_wang2", "139 1234 5678").startswith("手机号已记下")
    assert "已提交绑定申请" in wx.say("o_wang2", "三幢二单元1201")
    assert _pending("o_wang2").resident_id == wang.id


def test_staff_approval_binds_and_the_bot_then_knows_the_resident(wx, wang, make_staff, db_session):
    wx.say("o_wang3", "绑定房号")
    assert "已提交绑定申请" in wx.say("o_wang3", "3-2-1201 13912345678")
    staff = make_staff("property")
    binding_service.approve_binding(db_session, _pending("o_wang3").id, staff)
    db_session.commit()
    assert wx.say("o_wang3", "你好").startswith("王阿姨，您好")


def test_wrong_room_or_phone_is_explained_and_the_flow_goes_on(wx, wang):
    wx.say("o_x", "绑定")
    wrong_room = wx.say("o_x", "3幢2单元9999 13912345678")
    assert "没有找到3幢2单元9999" in wrong_room and "取消" in wrong_room
    wrong_phone = wx.say("o_x", "3幢2单元1201 13800000000")
    assert "没有登记该手机号" in wrong_phone
    assert "已提交绑定申请" in wx.say("o_x", "3幢2单元1201 13912345678")


def test_cancel_ends_the_flow_and_a_stray_answer_is_asked_again(wx, wang):
    wx.say("o_y", "绑定")
    assert "房号" in wx.say("o_y", "12")  # digits but neither a room nor a phone: ask again
    assert wx.say("o_y", "取消") == CANCELLED
    conversation = db.session.scalar(select(Conversation).where(Conversation.openid == "o_y"))
    assert "flow" not in conversation.dialog and "binding" not in conversation.dialog
    assert BIND_HINT in wx.say("o_y", "3幢2单元1201 13912345678")  # no flow: just the help menu
    assert _pending("o_y") is None


def test_a_code_without_a_pending_binding_is_answered_politely(wx):
    assert "没有待确认的绑定申请" in wx.say("o_z", "123456")


def test_a_resident_bound_to_another_wechat_cannot_be_taken_in_chat(wx, make_resident, db_session):
    make_resident("8", "1", "801", phone="13600000008", openid="o_owner")
    db_session.commit()
    wx.say("o_thief", "绑定")
    assert "已绑定了其他微信" in wx.say("o_thief", "8-1-801 13600000008")
