"""Car notices by plate through /wechat: the owner is told without learning who asked, 已处理 reaches the
sender without naming the owner, unknown plates go to staff, and both rate limits hold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.db import db
from app.notify.models import Notification
from app.parking import car_notices
from app.parking.models import CarNotice


@pytest.fixture
def people(make_resident, db_session):
    """王阿姨 (30幢, the sender) and 李先生 (12幢, owner of 浙A12345, with his wife at home)."""
    wang = make_resident("30", "2", "1201", name="王阿姨", phone="13900001111", openid="o_wang")
    li = make_resident("12", "1", "502", name="李建国", phone="13700002222", openid="o_li")
    wife = make_resident("12", "1", "502", name="张秀英", phone="13700003333", openid="o_zhang")
    car_notices.register_vehicle(db_session, li, "浙a·12345")
    db_session.commit()
    return {"wang": wang, "li": li, "wife": wife}


def _notes(resident) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification.text).where(Notification.resident_id == resident.id)
                                   .order_by(Notification.id)))


def _identity(resident) -> tuple[str, ...]:
    household = resident.household
    return (resident.name, resident.phone, resident.masked_phone, household.label, household.room,
            f"{household.unit.building.number}幢")


def test_a_move_request_reaches_every_owner_at_home_without_the_sender(wx, people, run_jobs, fake_wechat):
    wang, li, wife = people["wang"], people["li"], people["wife"]
    wx.say("o_li", "你好")  # inside the 48-hour window, so the message goes as a customer-service text
    reply = wx.say("o_wang", "浙A12345挡住出口了请挪车")
    assert reply == "已把挪车提醒发给车牌浙A12345的车主（不会透露您的身份）。车主回复“已处理”后会告诉您。"
    assert not any(part in reply for part in _identity(li) + _identity(wife))
    [to_li], [to_wife] = _notes(li), _notes(wife)
    assert to_li == to_wife and to_li.startswith("【挪车提醒】您登记的车辆浙A12345挡住了其他车辆")
    assert not any(part in to_li for part in _identity(wang))
    run_jobs()
    sent = [m for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_li"]
    assert sent and "浙A12345" in sent[0]["text"]["content"]
    assert not any(part in sent[0]["text"]["content"] for part in _identity(wang))
    notice = db.session.scalar(select(CarNotice))
    assert (notice.status, notice.kind, notice.source, notice.sender_resident_id) == ("sent", "move", "oa", wang.id)


def test_the_owner_answers_done_and_the_sender_is_told(wx, people):
    wang, li = people["wang"], people["li"]
    wx.say("o_wang", "浙A12345车灯没关")
    assert _notes(li)[0].startswith("【车辆提醒】您登记的车辆浙A12345车灯没有关")
    answer = wx.say("o_li", "已处理")
    assert answer == "好的，已告诉对方车辆浙A12345已处理，谢谢配合！"
    [told] = _notes(wang)
    assert told == "您提醒的车辆浙A12345，车主已回复：已处理。感谢您的提醒！"
    assert not any(part in told for part in _identity(li))
    assert db.session.scalar(select(CarNotice.status)) == "handled"
    # a second 已处理 has nothing left to answer: the ordinary chat takes it
    assert "已告诉对方" not in wx.say("o_li", "已处理")


def test_an_unknown_plate_goes_to_staff(wx, people):
    reply = wx.say("o_wang", "浙B8K9Q2车窗没关")
    assert reply == "暂时无法直接联系车牌浙B8K9Q2的车主，已把您的车窗未关提醒转给物业工作人员处理。"
    notice = db.session.scalar(select(CarNotice))
    assert (notice.status, notice.plate, notice.kind, notice.household_id) == ("unmatched", "浙B8K9Q2", "window", None)


def test_a_plate_asked_for_in_a_second_turn(wx, people):
    assert wx.say("o_wang", "挪车") == car_notices_ask()
    assert wx.say("o_wang", "浙A·12345").startswith("已把挪车提醒发给车牌浙A12345的车主")
    assert len(_notes(people["li"])) == 1


def car_notices_ask() -> str:
    from app.parking.chat import ASK_PLATE

    return ASK_PLATE


def test_an_unbound_user_cannot_send_notices(wx, people):
    reply = wx.say("o_stranger", "浙A12345挡住出口了请挪车")
    assert "需要先绑定房号" in reply
    assert db.session.scalar(select(CarNotice)) is None


def test_free_text_hides_phone_numbers(db_session, people):
    notice = car_notices.send_notice(db_session, None, community_id=people["wang"].community_id, plate="浙A12345",
                                     kind="text", text="后备箱没关，有事打我13900001111", resident=people["wang"])
    text = car_notices.owner_text(notice)
    assert "13900001111" not in text and "后备箱没关" in text


def test_a_sender_is_limited_per_hour(wx, people):
    plates = ["浙A1000" + str(i) for i in range(6)]
    replies = [wx.say("o_wang", f"{plate}挡住出口了请挪车") for plate in plates]
    assert all(r.startswith("暂时无法直接联系车牌") and "转给物业" in r for r in replies[:5])
    assert replies[5] == "您发送的车辆提醒太频繁了，请稍后再试"
    assert db.session.query(CarNotice).count() == 5


def test_a_plate_is_limited_across_senders(wx, people, make_resident, db_session):
    for i in range(4):
        make_resident("30", "3", f"{i + 1}01", name=f"邻居{i}", openid=f"o_n{i}")
    db_session.commit()
    replies = [wx.say(f"o_n{i}", "浙A12345挡住出口了请挪车") for i in range(4)]
    assert all(r.startswith("已把挪车提醒") for r in replies[:3])
    assert replies[3] == "这辆车刚刚已经收到多条提醒，请稍后再试"
    assert len(_notes(people["li"])) == 3


def test_the_limits_still_hold_without_redis(db_session, people):
    wang = people["wang"]
    for i in range(5):
        car_notices.send_notice(db_session, None, community_id=wang.community_id, plate=f"浙A2000{i}", kind="move",
                                resident=wang)
    with pytest.raises(Exception) as refused:
        car_notices.send_notice(db_session, None, community_id=wang.community_id, plate="浙A20009", kind="move",
                                resident=wang)
    assert getattr(refused.value, "code", "") == "sender_rate_limited"


def test_calling_it_off_after_a_notice_is_acknowledged_not_a_miss(wx, people, clock):
    wx.say("o_wang", "浙A12345挡住出口了请挪车")
    reply = wx.say("o_wang", "算了他已经开走了")
    assert reply.startswith("好的，不需要挪车了") and "没太明白" not in reply
    clock.shift(timedelta(hours=3))  # long after: the same words are no longer about that notice
    wx.say("o_wang", "浙A12345挡住出口了请挪车")
    clock.shift(timedelta(hours=3))
    assert not wx.say("o_wang", "算了他已经开走了").startswith("好的，不需要挪车了")
