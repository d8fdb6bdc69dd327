"""Clinic bookings in chat, end to end through /wechat with signed XML: book, pick, confirm, cancel, query."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from clinic_world import build_clinic
from sqlalchemy import select

from app.clinic.models import Booking, Slot, WaitlistEntry
from app.clinic.slots import local_to_utc
from app.community.models import Community
from app.core.clock import local_now
from app.core.db import db


@pytest.fixture
def wang(make_resident, db_session):
    resident = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    db_session.commit()
    return resident


@pytest.fixture
def clinic(db_session, wang):
    built = build_clinic(db_session, wang.community_id)
    db_session.commit()
    return built


TOMORROW = local_now().date() + timedelta(days=1)


def _at(day, hh: int, mm: int = 0):
    return local_to_utc(day, time(hh, mm))


def _bookings() -> list[Booking]:
    db.session.expire_all()
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def test_book_in_three_turns_nearest_to_the_asked_morning(wx, wang, clinic, db_session):
    afternoon = clinic.slot(db_session, "blood_pressure", _at(TOMORROW, 15))
    nine = clinic.slot(db_session, "blood_pressure", _at(TOMORROW, 9))
    half_past = clinic.slot(db_session, "blood_pressure", _at(TOMORROW, 9, 30), capacity=3)
    clinic.slot(db_session, "blood_pressure", _at(TOMORROW, 10), booked=1)  # full: not offered
    clinic.slot(db_session, "ecg", _at(TOMORROW, 9, 15))  # another service: not offered
    db_session.commit()
    offer = wx.say("o_wang", "明天上午想测个血压")
    assert offer.startswith("测血压可以预约这些时段")
    assert "1. 明天" in offer and "09:00" in offer and "2. 明天" in offer and "09:30" in offer
    assert "10:00" not in offer and "09:15" not in offer
    assert offer.index("09:30") < offer.index("15:00")  # shown by time, morning ones first
    assert "（余3位）" in offer
    assert _bookings() == []
    confirm = wx.say("o_wang", "2")
    assert "请确认预约" in confirm and "09:30" in confirm and "测血压" in confirm
    done = wx.say("o_wang", "确认")
    [booking] = _bookings()
    assert done.startswith("预约成功") and booking.number in done
    assert (booking.slot_id, booking.resident_id, booking.source, booking.status) == (half_past.id, wang.id, "oa",
                                                                                        "booked")
    assert db_session.get(Slot, half_past.id).booked == 1
    assert {nine.id, afternoon.id}.isdisjoint({booking.slot_id})


def test_service_asked_when_missing_and_a_bad_pick_is_asked_again(wx, wang, clinic, db_session):
    clinic.slot(db_session, "ecg", _at(TOMORROW, 8, 30))
    db_session.commit()
    assert "请问想预约什么项目" in wx.say("o_wang", "我想预约")
    offer = wx.say("o_wang", "心电图")
    assert "心电图可以预约这些时段" in offer and "08:30" in offer
    again = wx.say("o_wang", "7")
    assert again.startswith("抱歉，我没看明白") and "1. " in again
    assert "请确认预约" in wx.say("o_wang", "第一个")
    assert wx.say("o_wang", "取消").startswith("好的，已取消")
    assert _bookings() == []


def test_a_full_service_offers_the_waitlist(wx, wang, clinic, db_session):
    full = clinic.slot(db_session, "gastroscopy", _at(TOMORROW, 9), booked=1)
    db_session.commit()
    offer = wx.say("o_wang", "明天上午约个胃镜")
    assert "都约满了" in offer and "候补" in offer
    done = wx.say("o_wang", "候补")
    assert done.startswith("已为您登记候补")
    db.session.expire_all()
    [entry] = db.session.scalars(select(WaitlistEntry)).all()
    assert (entry.slot_id, entry.resident_id, entry.status) == (full.id, wang.id, "waiting")


def test_the_seat_taken_meanwhile_is_answered_politely(wx, wang, clinic, db_session, make_resident):
    slot = clinic.slot(db_session, "ct", _at(TOMORROW, 14))
    other = make_resident("3", "2", "1202", name="赵大爷", community=db_session.get(Community, wang.community_id))
    db_session.commit()
    wx.say("o_wang", "明天下午做个CT")
    wx.say("o_wang", "1")
    from app.clinic import bookings

    bookings.create_booking(db_session, other, slot.id)
    db_session.commit()
    reply = wx.say("o_wang", "确认")
    assert "刚刚被约满了" in reply
    assert [b.resident_id for b in _bookings()] == [other.id]


def test_query_and_cancel(wx, wang, clinic, db_session):
    ecg = clinic.slot(db_session, "ecg", _at(TOMORROW, 10))
    check = clinic.slot(db_session, "checkup", _at(TOMORROW + timedelta(days=1), 8))
    db_session.commit()
    assert "没有待就诊的预约" in wx.say("o_wang", "我约的体检是几点")
    assert "没有可以取消的预约" in wx.say("o_wang", "取消预约")
    from app.clinic import bookings

    first = bookings.create_booking(db_session, wang, ecg.id)
    second = bookings.create_booking(db_session, wang, check.id)
    db_session.commit()
    listing = wx.say("o_wang", "我约的体检是几点")
    assert listing.startswith("您有2个预约") and listing.index("体检") < listing.index("心电图")
    assert second.number in listing and "08:00" in listing
    confirm = wx.say("o_wang", "取消我明天的心电图预约")  # the named one, straight to confirming
    assert "要取消这个预约吗" in confirm and first.number in confirm
    assert "已取消预约" in wx.say("o_wang", "确认")
    db.session.expire_all()
    assert (db.session.get(Booking, first.id).status, db.session.get(Slot, ecg.id).booked) == ("cancelled", 0)
    third = clinic.slot(db_session, "ecg", _at(TOMORROW, 11))
    bookings.create_booking(db_session, wang, third.id)
    db_session.commit()
    choose = wx.say("o_wang", "取消预约")
    assert "要取消哪一个" in choose and "1. " in choose and "2. " in choose
    assert "要取消这个预约吗" in wx.say("o_wang", "2")
    wx.say("o_wang", "确认")
    assert sorted(b.status for b in _bookings()) == ["booked", "cancelled", "cancelled"]


def test_unbound_users_are_told_to_bind(wx, clinic):
    assert "需要先绑定房号" in wx.say("o_stranger", "明天上午想测个血压")


def test_a_day_beyond_the_schedule_is_said_to_be_so_not_full(wx, wang, clinic, db_session):
    clinic.slot(db_session, "checkup", _at(TOMORROW, 9))
    db_session.commit()
    far = local_now().date() + timedelta(days=20)  # the clinic opens 14 days ahead
    offer = wx.say("o_wang", f"预约{far.month}月{far.day}号体检")
    assert f"{far.month}月{far.day}日的体检还不能预约（只开放未来14天的号）" in offer
    assert "约满" not in offer and "1. 明天" in offer
