"""Where and what in a repair or complaint dialog, as residents answer off the happy path (issue 15,
points 2 and 3): questions and cancels at the 'where?' step, a request with no problem in it, a
resident's own building, a stairwell gas smell, and 广场舞 that is not a square."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.db import db
from app.core.words import says_cancel
from app.tickets.models import Ticket


@pytest.fixture
def wang(make_resident, make_household, db_session):
    resident = make_resident("30", "2", "1201", name="王阿姨", openid="o_wang")
    make_household("3", "1", "101")
    db_session.commit()
    return resident


def _tickets() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def test_a_question_at_the_where_step_is_not_filed_as_the_place(wx, wang):
    assert "具体在哪里" in wx.say("o_wang", "我要投诉保安态度很差")
    reply = wx.say("o_wang", "請問還有臨時車位嗎")
    assert "地点：請問" not in reply and "地点：请问" not in reply
    assert "确认提交" not in reply  # no draft was made of it
    assert _tickets() == []


def test_giving_up_at_the_where_step_cancels_instead_of_becoming_the_place(wx, wang):
    assert "具体在哪里" in wx.say("o_wang", "我要投诉物业")
    reply = wx.say("o_wang", "算了 不投诉了")
    assert "已取消" in reply
    assert wx.say("o_wang", "确认") is not None and _tickets() == []


def test_a_request_with_no_problem_asks_what_is_wrong_first(wx, wang):
    assert "什么坏了" in wx.say("o_wang", "我要报修")
    again = wx.say("o_wang", "我家")  # where, not what: kept, and the question stands
    assert "什么坏了" in again
    confirm = wx.say("o_wang", "厨房水管漏水")
    assert "问题：厨房水管漏水" in confirm and "地点：30幢2单元1201" in confirm
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert (ticket.description, ticket.category, ticket.room) == ("厨房水管漏水", "water", "1201")


def test_a_residents_own_building_with_a_home_word_is_their_flat(wx, wang):
    confirm = wx.say("o_wang", "30幢马桶堵了")
    assert "地点：30幢2单元1201" in confirm


def test_gas_in_the_stairwell_is_filed_for_the_stairwell_not_the_flat(wx, wang):
    wx.say("o_wang", "楼道里有煤气味")
    [ticket] = _tickets()
    assert ticket.priority == "urgent" and ticket.category == "gas"
    assert (ticket.building, ticket.room) == ("30", None) and "楼道" in ticket.place


def test_square_dancing_is_not_the_square(wx, wang):
    reply = wx.say("o_wang", "楼下广场舞太吵了")
    assert "地点：广场" not in reply


@pytest.mark.parametrize("text, expected", [
    ("算了", True), ("算了 不投诉了", True), ("不用了谢谢", True), ("算了吧。", True), ("取消", True),
    ("取消预约", False), ("算了一下电费", False), ("不用了解", False),
])
def test_what_counts_as_calling_off(text, expected):
    assert says_cancel(text) is expected


def test_a_correction_at_the_confirm_step_changes_the_draft(wx, wang):
    first = wx.say("o_wang", "我家空调不制冷了")
    assert "确认提交" in first
    corrected = wx.say("o_wang", "哦不对，是暖气片不热")
    assert "问题已改为“暖气片不热”" in corrected and "问题：暖气片不热" in corrected
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert ticket.description == "暖气片不热"


def test_urgency_added_at_the_confirm_step_raises_the_priority_and_keeps_the_detail(wx, wang):
    assert "确认提交" in wx.say("o_wang", "厨房水管漏水")
    amended = wx.say("o_wang", "很急，水一直在往外冒")
    assert "已标为紧急" in amended and "水一直在往外冒" in amended
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert ticket.priority == "urgent" and "水一直在往外冒" in ticket.description


def test_a_question_at_the_confirm_step_does_not_change_the_draft(wx, wang):
    wx.say("o_wang", "厨房水管漏水")
    reply = wx.say("o_wang", "这个要收费吗")
    assert "问题：厨房水管漏水" in reply and "已补充" not in reply
