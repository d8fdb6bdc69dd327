"""Moving and cancelling clinic bookings in chat, end to end through /wechat (issue 15, point 10):
改到下午行不行 / 能改到周四吗 / 把明天的体检改到下周, cancelling by number, and a bare 1 that is no yes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from clinic_world import build_clinic
from clock import local_to_utc
from sqlalchemy import select

from app.clinic import bookings
from app.clinic.models import Booking, Slot
from app.clinic.slots import slot_label
from app.community.models import Community
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


def _bookings() -> list[Booking]:
    db.session.expire_all()
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def _next(today: date, weekday: int) -> date:
    """The next such weekday after today (a bare 周四 said on a Thursday is next week's)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _book(db_session, resident, slot) -> Booking:
    booking = bookings.create_booking(db_session, resident, slot.id)
    db_session.commit()
    return booking


def test_gai_dao_xiawu_xing_bu_xing_right_after_booking_moves_the_booking_just_made(wx, wang, clinic, db_session,
                                                                                       clock):
    """改到下午行不行, said right after booking: the booking just made, the same service that afternoon."""
    clock.at(9, 0, days=-3)
    tomorrow = clock.today() + timedelta(days=4)
    ecg = _book(db_session, wang, clinic.slot(db_session, "ecg", local_to_utc(tomorrow, 11)))  # days ago
    clock.at(10, 0, days=3)
    morning = clinic.slot(db_session, "blood_pressure", local_to_utc(tomorrow, 9))
    two, half, three = (clinic.slot(db_session, "blood_pressure", local_to_utc(tomorrow, h, m))
                        for h, m in ((14, 0), (14, 30), (15, 0)))
    clinic.slot(db_session, "blood_pressure", local_to_utc(tomorrow, 14, 15), booked=1)  # full: not offered
    clinic.slot(db_session, "blood_pressure", local_to_utc(tomorrow, 19))  # evening: not the afternoon
    db_session.commit()
    assert tomorrow == clock.today() + timedelta(days=1)
    wx.say("o_wang", "明天上午想测个血压")
    wx.say("o_wang", "1")
    assert wx.say("o_wang", "确认").startswith("预约成功")
    offer = wx.say("o_wang", "改到下午行不行")
    assert "测血压明天下午还有这些空位" in offer
    assert "1. " in offer and "14:00" in offer and "2. " in offer and "14:30" in offer and "15:00" in offer
    assert "14:15" not in offer and "19:00" not in offer and "09:00" not in offer
    confirm = wx.say("o_wang", "2")
    assert "请确认改期" in confirm and "09:00" in confirm and "14:30" in confirm
    done = wx.say("o_wang", "确认")
    assert done.startswith("已改好")
    old, new = (b for b in _bookings() if b.service.code == "blood_pressure")
    assert (old.slot_id, old.status) == (morning.id, "cancelled")
    assert (new.slot_id, new.status, new.rescheduled_from_id) == (half.id, "booked", old.id)
    assert new.number in done and old.number in done
    assert db.session.get(Booking, ecg.id).status == "booked"  # the older booking is untouched
    assert (db.session.get(Slot, morning.id).booked, db.session.get(Slot, half.id).booked) == (0, 1)
    assert {two.id, three.id}.isdisjoint({new.slot_id})


def test_neng_gai_dao_zhousi_ma_days_later_and_a_bare_1_is_no_yes(wx, wang, clinic, db_session, clock):
    """能改到周四吗, days after booking: the slots that Thursday nearest the old time; 1 at the yes/no asks again."""
    clock.at(9, 0)
    booked_day = clock.today() + timedelta(days=6)
    booking = _book(db_session, wang, clinic.slot(db_session, "checkup", local_to_utc(booked_day, 9, 30)))
    clock.at(20, 0, days=2)
    thursday = _next(clock.today(), 3)
    early, near, far = (clinic.slot(db_session, "checkup", local_to_utc(thursday, h)) for h in (8, 10, 16))
    clinic.slot(db_session, "checkup", local_to_utc(thursday, 11), booked=1)  # full: not offered
    clinic.slot(db_session, "ecg", local_to_utc(thursday, 10, 30))  # another service: not offered
    db_session.commit()
    offer = wx.say("o_wang", "能改到周四吗")
    assert f"{thursday.month}月{thursday.day}日" in offer and "还有这些空位" in offer
    assert "08:00" in offer and "10:00" in offer and "16:00" in offer
    assert "11:00" not in offer and "10:30" not in offer
    assert offer.index("08:00") < offer.index("10:00") < offer.index("16:00")
    confirm = wx.say("o_wang", "2")
    assert "请确认改期" in confirm and "10:00" in confirm
    again = wx.say("o_wang", "1")
    assert again.startswith("抱歉，我没看明白") and "“确认”" in again and "“取消”" in again
    assert _bookings()[0].status == "booked"
    assert wx.say("o_wang", "好的").startswith("已改好")
    old, new = _bookings()
    assert (old.id, old.status, new.slot_id, new.status) == (booking.id, "cancelled", near.id, "booked")
    assert {early.id, far.id}.isdisjoint({new.slot_id})


def test_ba_mingtian_de_tijian_gai_dao_xiazhou_moves_the_named_booking_into_next_week(wx, wang, clinic, db_session,
                                                                                       clock):
    """把明天的体检改到下周: the checkup (not tomorrow's ECG), offered in the next calendar week only."""
    clock.at(9, 0, days=-1)
    tomorrow = clock.today() + timedelta(days=2)
    check = _book(db_session, wang, clinic.slot(db_session, "checkup", local_to_utc(tomorrow, 8)))
    ecg = _book(db_session, wang, clinic.slot(db_session, "ecg", local_to_utc(tomorrow, 10)))
    now = clock.at(15, 0, days=1)
    monday = _next(clock.today(), 0)
    week = [clinic.slot(db_session, "checkup", local_to_utc(monday + timedelta(days=d), 8, 30)) for d in (0, 1, 2, 4)]
    after = clinic.slot(db_session, "checkup", local_to_utc(monday + timedelta(days=7), 8, 30))  # the week after
    db_session.commit()
    offer = wx.say("o_wang", "把明天的体检改到下周")
    assert "体检下周还有这些空位" in offer
    assert [line[:2] for line in offer.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")] == ["1.", "2.", "3."]
    for i, slot in enumerate(week[:3], 1):
        assert f"{i}. {slot_label(slot, now)}" in offer
    assert slot_label(week[3], now) not in offer and slot_label(after, now) not in offer
    assert "体检" in wx.say("o_wang", "1")
    assert wx.say("o_wang", "确认").startswith("已改好")
    moved = {b.id: b for b in _bookings()}
    new = next(b for b in moved.values() if b.rescheduled_from_id == check.id)
    assert (new.slot_id, moved[check.id].status, moved[ecg.id].status) == (week[0].id, "cancelled", "booked")


def test_a_full_afternoon_is_said_politely_with_the_nearest_free_slots(wx, wang, clinic, db_session, clock):
    """改到下午 when that afternoon is full: said so, with other free slots by number; nothing moves meanwhile."""
    clock.at(8, 0)
    day = clock.today() + timedelta(days=2)
    booking = _book(db_session, wang, clinic.slot(db_session, "blood_pressure", local_to_utc(day, 9)))
    clinic.slot(db_session, "blood_pressure", local_to_utc(day, 14), booked=1)
    clinic.slot(db_session, "blood_pressure", local_to_utc(day, 15), booked=1)
    later = clinic.slot(db_session, "blood_pressure", local_to_utc(day + timedelta(days=1), 14, 30))
    clinic.slot(db_session, "blood_pressure", local_to_utc(day, 10, 30))
    db_session.commit()
    clock.at(10, 0, days=1)  # a day later: the booking was not just made
    offer = wx.say("o_wang", "改到下午行不行")
    assert offer.startswith("抱歉，明天下午的测血压已经约满了") and "最近的空位" in offer
    assert "1. 明天" in offer and "10:30" in offer and "2. 后天" in offer and "14:30" in offer
    assert "14:00" not in offer and "15:00" not in offer
    assert [b.status for b in _bookings()] == ["booked"]
    assert "请确认改期" in wx.say("o_wang", "2")
    assert wx.say("o_wang", "确认").startswith("已改好")
    assert next(b for b in _bookings() if b.status == "booked").slot_id == later.id
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_the_new_slot_taken_meanwhile_offers_others_and_the_booking_stays(wx, wang, clinic, db_session, clock,
                                                                          make_resident):
    clock.at(8, 0)
    day = clock.today() + timedelta(days=2)
    booking = _book(db_session, wang, clinic.slot(db_session, "ecg", local_to_utc(day, 9)))
    taken = clinic.slot(db_session, "ecg", local_to_utc(day, 14))
    other_slot = clinic.slot(db_session, "ecg", local_to_utc(day, 15))
    zhao = make_resident("3", "2", "1202", name="赵大爷", community=db_session.get(Community, wang.community_id))
    db_session.commit()
    clock.at(9, 0, days=1)
    wx.say("o_wang", "心电图改到明天下午")
    assert "请确认改期" in wx.say("o_wang", "1")
    bookings.create_booking(db_session, zhao, taken.id)
    db_session.commit()
    reply = wx.say("o_wang", "确认")
    assert "刚刚被约满了" in reply and "15:00" in reply and "1. " in reply
    assert db.session.get(Booking, booking.id).status == "booked"
    wx.say("o_wang", "1")
    assert wx.say("o_wang", "对").startswith("已改好")
    mine = [b for b in _bookings() if b.resident_id == wang.id and b.status == "booked"]
    assert [b.slot_id for b in mine] == [other_slot.id]


def test_several_bookings_ask_which_by_words_then_when(wx, wang, clinic, db_session, clock):
    clock.at(8, 0, days=-2)
    day = clock.today() + timedelta(days=4)
    bp = _book(db_session, wang, clinic.slot(db_session, "blood_pressure", local_to_utc(day, 9)))
    check = _book(db_session, wang, clinic.slot(db_session, "checkup", local_to_utc(day, 10)))
    clock.at(9, 0, days=2)
    new_slot = clinic.slot(db_session, "checkup", local_to_utc(day, 8))
    db_session.commit()
    which = wx.say("o_wang", "我想改个时间")
    assert "要改哪一个" in which and "1. 测血压" in which and "2. 体检" in which
    when = wx.say("o_wang", "体检那个")
    assert "想改到什么时候" in when and "体检" in when
    offer = wx.say("o_wang", "后天上午")
    assert "体检后天上午还有这些空位" in offer and "08:00" in offer
    wx.say("o_wang", "1")
    assert wx.say("o_wang", "确认").startswith("已改好")
    rows = {b.id: b for b in _bookings()}
    assert rows[bp.id].status == "booked" and rows[check.id].status == "cancelled"
    assert any(b.slot_id == new_slot.id and b.status == "booked" for b in rows.values())


def test_no_booking_to_move_is_said(wx, wang, clinic, clock):
    clock.at(10, 0)
    assert "没有可以改期的预约" in wx.say("o_wang", "改到下午行不行")


def test_while_choosing_a_new_booking_another_part_of_the_day_is_offered(wx, wang, clinic, db_session, clock):
    clock.at(10, 0)
    tomorrow = clock.today() + timedelta(days=1)
    for h, m in ((8, 0), (8, 30), (9, 0), (9, 30), (10, 0), (10, 30)):
        clinic.slot(db_session, "blood_pressure", local_to_utc(tomorrow, h, m))
    afternoon = clinic.slot(db_session, "blood_pressure", local_to_utc(tomorrow, 15))
    db_session.commit()
    first = wx.say("o_wang", "明天上午想测个血压")
    assert "09:00" in first and "15:00" not in first
    again = wx.say("o_wang", "改到下午行不行")
    assert "15:00" in again and "请回复序号" in again
    number = next(line[0] for line in again.splitlines() if "15:00" in line)
    assert "15:00" in wx.say("o_wang", number)
    assert wx.say("o_wang", "确认").startswith("预约成功")
    assert [b.slot_id for b in _bookings()] == [afternoon.id]


# ---- cancelling ----------------------------------------------------------------------------------

def test_cancel_with_several_bookings_lists_them_numbered_and_takes_the_number(wx, wang, clinic, db_session, clock):
    clock.at(9, 0)
    day = clock.today() + timedelta(days=2)
    rows = [_book(db_session, wang, clinic.slot(db_session, code, local_to_utc(day, h)))
            for code, h in (("ecg", 9), ("checkup", 10), ("tcm", 14))]
    choose = wx.say("o_wang", "取消预约")
    assert "要取消哪一个" in choose and "1. 心电图" in choose and "2. 体检" in choose and "3. 中医" in choose
    question = wx.say("o_wang", "2")
    assert "要取消这个预约吗" in question and rows[1].number in question
    again = wx.say("o_wang", "1")  # a bare 1 at a yes/no question is no yes
    assert again.startswith("抱歉，我没看明白") and "“确认”" in again and "“取消”" in again
    assert [b.status for b in _bookings()] == ["booked", "booked", "booked"]
    assert wx.say("o_wang", "是的").startswith("已取消预约")
    assert [b.status for b in _bookings()] == ["booked", "cancelled", "booked"]


@pytest.mark.parametrize("yes", ["确认", "是的", "好的", "对"])
def test_yes_words_confirm_a_cancel_and_a_bare_1_does_not(wx, wang, clinic, db_session, clock, yes):
    clock.at(9, 0)
    slot = clinic.slot(db_session, "ecg", local_to_utc(clock.today() + timedelta(days=1), 10))
    booking = _book(db_session, wang, slot)
    assert "要取消这个预约吗" in wx.say("o_wang", "取消预约")
    assert wx.say("o_wang", "1").startswith("抱歉，我没看明白")
    assert db.session.get(Booking, booking.id).status == "booked"
    assert wx.say("o_wang", yes).startswith("已取消预约")
    db.session.expire_all()
    assert (db.session.get(Booking, booking.id).status, db.session.get(Slot, slot.id).booked) == ("cancelled", 0)


def test_no_at_the_cancel_question_keeps_the_booking(wx, wang, clinic, db_session, clock):
    clock.at(9, 0)
    booking = _book(db_session, wang, clinic.slot(db_session, "ecg", local_to_utc(clock.today() + timedelta(days=1),
                                                                                 10)))
    wx.say("o_wang", "取消预约")
    assert wx.say("o_wang", "不").startswith("好的，不取消")
    assert db.session.get(Booking, booking.id).status == "booked"


def test_cancel_choice_by_day_and_service_words(wx, wang, clinic, db_session, clock):
    clock.at(9, 0)
    tomorrow = clock.today() + timedelta(days=1)
    ecg = _book(db_session, wang, clinic.slot(db_session, "ecg", local_to_utc(tomorrow, 10)))
    _book(db_session, wang, clinic.slot(db_session, "ecg", local_to_utc(tomorrow + timedelta(days=2), 10)))
    assert "要取消哪一个" in wx.say("o_wang", "取消预约")
    question = wx.say("o_wang", "明天的那个")
    assert "要取消这个预约吗" in question and ecg.number in question


@pytest.mark.parametrize("text", ["体检预约改到后天上午", "我的预约改到后天上午"])
def test_a_move_the_parser_reads_as_a_booking_or_a_question_still_moves(wx, wang, clinic, db_session, clock, text):
    """体检预约改到后天上午 reads as booking_create, 我的预约改到后天上午 as booking_query: both move the booking."""
    clock.at(9, 0)
    day = clock.today() + timedelta(days=1)
    booking = _book(db_session, wang, clinic.slot(db_session, "checkup", local_to_utc(day, 14)))
    new_slot = clinic.slot(db_session, "checkup", local_to_utc(day + timedelta(days=1), 8, 30))
    db_session.commit()
    clock.at(10, 0)
    offer = wx.say("o_wang", text)
    assert "体检后天上午还有这些空位" in offer and "1. 后天" in offer and "08:30" in offer
    wx.say("o_wang", "1")
    inside = wx.say("o_wang", "我的预约改到后天上午")  # inside the flow: the flow's own question, asked again
    assert "请确认改期" in inside
    assert wx.say("o_wang", "确认").startswith("已改好")
    rows = {b.id: b for b in _bookings()}
    assert rows[booking.id].status == "cancelled"
    assert any(b.slot_id == new_slot.id and b.status == "booked" for b in rows.values())
