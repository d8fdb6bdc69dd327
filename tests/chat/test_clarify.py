"""Clarify instead of giving up: a parse below the cut with strong slots gets a yes/no question; 是 acts on
it, 不是 asks for other words, anything else is answered as if nothing had been asked."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from clinic_world import build_clinic
from sqlalchemy import select

from app.clinic.models import Booking
from app.clinic.slots import WEEKDAYS, local_to_utc
from app.core.clock import local_now
from app.core.db import db
from app.parking import car_notices
from app.parking.models import CarNotice
from nlp import parse


@pytest.fixture
def wang(make_resident, db_session):
    resident = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    owner = make_resident("12", "1", "502", name="李建国", openid="o_li")
    car_notices.register_vehicle(db_session, owner, "浙A8K3D2")
    db_session.commit()
    return resident


def _next_tuesday():
    today = local_now().date()
    return today + timedelta(days=7 - today.weekday() + 1)


def _rows(model) -> list:
    db.session.expire_all()
    return list(db.session.scalars(select(model)))


def test_the_examples_are_below_the_cut_with_strong_slots():
    """What this file tests for: the parser alone does not start these (if it ever does, the questions are moot)."""
    for text, intent, slot in (("下周二体检", "booking_create", "service"), ("浙A8K3D2挡我车了", "car_notice", "plate"),
                               ("my car is blocked by 浙A3K512", "car_notice", "plate")):
        parsed = parse(text)
        assert parsed.intent == intent and parsed.confidence < 0.5 and parsed.slots.get(slot)


def test_a_weak_booking_is_asked_about_and_yes_starts_it(wx, wang, db_session):
    tuesday = _next_tuesday()
    clinic = build_clinic(db_session, wang.community_id)
    clinic.slot(db_session, "checkup", local_to_utc(tuesday, time(9, 0)))
    db_session.commit()
    question = wx.say("o_wang", "下周二体检")
    assert question.startswith(f"您是想预约{tuesday.month}月{tuesday.day}日（周{WEEKDAYS[tuesday.weekday()]}）的体检吗？")
    assert "是" in question and "不是" in question
    offer = wx.say("o_wang", "是的")
    assert "体检可以预约这些时段" in offer and "09:00" in offer
    confirm = wx.say("o_wang", "1")
    assert "请确认预约" in confirm
    again = wx.say("o_wang", "1")  # a second tap on 1 is no yes at the confirm step
    assert _rows(Booking) == [] and "确认" in again
    done = wx.say("o_wang", "确认")
    assert done.startswith("预约成功") and len(_rows(Booking)) == 1


def test_no_asks_for_other_words_and_files_nothing(wx, wang):
    wx.say("o_wang", "下周二体检")
    reply = wx.say("o_wang", "不是")
    assert "换个说法" in reply and "预约" not in reply.split("例如")[0]
    assert wx.say("o_wang", "是") != reply  # the question is gone: a bare 是 is no longer an answer to it
    assert _rows(Booking) == []


def test_another_message_forgets_the_question(wx, wang):
    wx.say("o_wang", "下周二体检")
    hello = wx.say("o_wang", "你好")
    assert "您好" in hello
    later = wx.say("o_wang", "是")
    assert "体检可以预约" not in later and "您是想预约" not in later


def test_moving_a_booking_is_never_asked_as_a_new_one(wx, wang):
    reply = wx.say("o_wang", "把明天的体检改到下周")
    assert "您是想预约" not in reply


def test_a_plate_and_a_blocking_word_ask_then_notify_the_owner(wx, wang):
    question = wx.say("o_wang", "浙A8K3D2挡我车了")
    assert question.startswith("您是想提醒车牌浙A8K3D2的车主挪车吗？")
    assert _rows(CarNotice) == []
    sent = wx.say("o_wang", "对")
    [notice] = _rows(CarNotice)
    assert notice.plate == "浙A8K3D2" and notice.kind == "move" and "浙A8K3D2" in sent


def test_a_plate_inside_english_is_asked_about(wx, wang):
    question = wx.say("o_wang", "my car is blocked by 浙A3K512")
    assert question.startswith("您是想提醒车牌浙A3K512的车主挪车吗？")


def test_a_plate_without_a_request_is_not_asked_about(wx, wang):
    reply = wx.say("o_wang", "浙A8K3D2")
    assert "您是想提醒" not in reply
