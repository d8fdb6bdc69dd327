"""Repairs and complaints in chat, end to end through /wechat with signed XML."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select
from wechat_post import text_xml

from app.chat import dialog
from app.chat.models import Conversation
from app.core.clock import to_local, utcnow
from app.core.db import db
from app.parking import chat as parking_chat
from app.tickets.models import Ticket, TicketFollower


@pytest.fixture
def wang(make_resident, make_household, db_session):
    resident = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    make_household("5", "1", "101")  # the community has a 5幢 too: reports name it
    db_session.commit()
    return resident


def _tickets() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def image_xml(openid: str, msg_id: int, url: str = "http://mmbiz.qpic.cn/mmbiz_jpg/leak/0") -> str:
    return (f"<xml><ToUserName><![CDATA[gh_linli]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[{url}]]></PicUrl><MediaId><![CDATA[media_1]]></MediaId><MsgId>{msg_id}</MsgId></xml>")


def test_a_repair_in_one_message_then_confirmed(wx, wang):
    asked = wx.say("o_wang", "3号楼电梯坏了")
    assert "地点：3幢 电梯" in asked and "类别：电梯" in asked and "确认" in asked
    assert _tickets() == []  # nothing is created before the resident confirms
    done = wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert f"单号{ticket.number}" in done and done.startswith("已为您提交报修")
    assert (ticket.kind, ticket.category, ticket.building, ticket.room) == ("repair", "elevator", "3", None)
    assert ticket.resident_id == wang.id and ticket.description == "3号楼电梯坏了" and ticket.source == "oa"


def test_missing_place_then_confirmation_in_three_turns(wx, wang):
    assert "具体在哪里" in wx.say("o_wang", "水管漏水了")
    confirm = wx.say("o_wang", "我家")
    assert "地点：3幢2单元1201" in confirm  # defaulted from the resident's own household
    done = wx.say("o_wang", "是的")
    [ticket] = _tickets()
    assert ticket.number in done
    assert (ticket.building, ticket.unit, ticket.room, ticket.category) == ("3", "2", "1201", "water")


def test_home_words_default_the_room_in_one_message(wx, wang):
    assert "地点：3幢2单元1201" in wx.say("o_wang", "我家水管漏水")


def test_a_complaint(wx, wang):
    confirm = wx.say("o_wang", "楼上半夜装修太吵")
    assert "投诉单" in confirm and "类别：噪音" in confirm and "3幢2单元1201" in confirm
    done = wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert done.startswith("已为您提交投诉") and ticket.number.startswith("TS")
    assert (ticket.kind, ticket.category) == ("complaint", "noise")


def test_a_photo_sent_after_the_report_is_attached(wx, wang):
    wx.say("o_wang", "5幢楼道灯不亮了")
    wx.say("o_wang", "确认")
    reply = wx.reply(wx.post(image_xml("o_wang", 9_100_000_001)))["Content"]
    [ticket] = _tickets()
    assert f"照片已附在单号{ticket.number}上" in reply
    assert [(p.url, p.media_id, p.stage) for p in ticket.photos] == [
        ("http://mmbiz.qpic.cn/mmbiz_jpg/leak/0", "media_1", "report")]


def test_a_photo_sent_mid_flow_goes_with_the_report(wx, wang):
    wx.say("o_wang", "水管漏水了")
    assert "提交时会一并附上" in wx.reply(wx.post(image_xml("o_wang", 9_100_000_002)))["Content"]
    wx.say("o_wang", "我家")
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert len(ticket.photos) == 1


def test_a_photo_long_after_any_report_is_only_acknowledged(wx, wang, db_session):
    wx.say("o_wang", "5幢楼道灯不亮了")
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    ticket.created_at -= timedelta(minutes=11)
    db.session.commit()
    assert "请再用文字说一下" in wx.reply(wx.post(image_xml("o_wang", 9_100_000_003)))["Content"]
    assert _tickets()[0].photos == []


def test_status_query_lists_open_tickets(wx, wang):
    assert "没有正在处理" in wx.say("o_wang", "我报修的进度")
    wx.say("o_wang", "5幢楼道灯不亮了")
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    status = wx.say("o_wang", "我报修的进度")
    assert ticket.number in status and "已提交，待受理" in status and "5幢" in status


def test_cancelling_mid_flow_creates_nothing_and_clears_the_state(wx, wang):
    wx.say("o_wang", "水管漏水了")
    assert wx.say("o_wang", "算了") == dialog.core.CANCELLED
    wx.say("o_wang", "3号楼电梯坏了")
    assert wx.say("o_wang", "取消") == dialog.core.CANCELLED
    assert _tickets() == []
    conversation = db.session.scalar(select(Conversation).where(Conversation.openid == "o_wang"))
    assert "flow" not in conversation.dialog and "form" not in conversation.dialog


def test_wechat_retrying_the_confirmation_gives_one_ticket(wx, wang):
    wx.say("o_wang", "3号楼电梯坏了")
    xml = text_xml("o_wang", "确认", msg_id=9_200_000_001)
    first = wx.reply(wx.post(xml))["Content"]
    again = [wx.reply(wx.post(xml))["Content"] for _ in range(2)]
    assert again == [first, first]
    assert len(_tickets()) == 1


def test_unbound_users_are_asked_to_bind_first(wx):
    assert "先绑定房号" in wx.say("o_stranger", "3号楼电梯坏了")
    assert _tickets() == []


def test_an_urgent_report_is_created_at_once_and_alerts_staff(wx, wang, run_jobs, make_staff, db_session):
    make_staff("property")
    db_session.commit()
    reply = wx.say("o_wang", "我家厨房漏水严重，水漫出来了")
    [ticket] = _tickets()
    assert reply.startswith("情况紧急") and ticket.number in reply
    assert ticket.priority == "urgent" and ticket.sla_due_at - ticket.created_at == timedelta(minutes=30)
    run_jobs()
    db.session.expire_all()
    alert = [e for e in db.session.get(Ticket, ticket.id).events if e.kind == "alerted"]
    assert alert and alert[0].data["reason"] == "urgent" and alert[0].data["staff_ids"]


def test_unclear_answers_are_asked_again_twice_then_a_person_is_offered(wx, wang):
    wx.say("o_wang", "3号楼电梯坏了")
    assert wx.say("o_wang", "啥").startswith("抱歉，我没看明白")
    assert wx.say("o_wang", "什么意思").startswith("抱歉，我没看明白")
    assert wx.say("o_wang", "哈哈") == dialog.core.OFFER_PERSON
    assert _tickets() == []


def test_an_idle_flow_expires(wx, wang, monkeypatch):
    wx.say("o_wang", "3号楼电梯坏了")
    conversation = db.session.scalar(select(Conversation).where(Conversation.openid == "o_wang"))
    form = dict(conversation.dialog["form"])
    form["touched"] = "2020-01-01T08:00:00+08:00"
    conversation.dialog = {**conversation.dialog, "form": form}
    db.session.commit()
    assert "已自动取消" in wx.say("o_wang", "确认")
    assert _tickets() == []


def test_a_second_report_of_the_same_shared_problem_offers_to_follow(wx, wang, make_resident, db_session):
    make_resident("3", "1", "101", name="赵大爷", openid="o_zhao")
    db_session.commit()
    wx.say("o_wang", "3号楼电梯坏了")
    wx.say("o_wang", "确认")
    offer = wx.say("o_zhao", "3幢电梯又坏了")
    [first] = _tickets()
    assert "已有邻居反映过了" in offer and first.number in offer
    assert offer.startswith("3幢 电梯的问题，今天")  # the place already says 电梯: not 电梯的电梯问题
    assert wx.say("o_zhao", "关注").startswith(f"已为您关注单号{first.number}")
    assert len(_tickets()) == 1
    assert db.session.scalar(select(func.count()).select_from(TicketFollower)) == 1
    wx.say("o_zhao", "3幢电梯又坏了")
    assert "地点：3幢" in wx.say("o_zhao", "新报")
    wx.say("o_zhao", "确认")
    assert len(_tickets()) == 2


def test_a_report_made_in_chat_runs_on_the_configured_sla(wx, wang, monkeypatch, app):
    monkeypatch.setitem(app.config, "TICKET_SLA_NORMAL_MINUTES", 90)
    wx.say("o_wang", "3号楼电梯坏了")
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert ticket.sla_due_at - ticket.created_at == timedelta(minutes=90)


def test_a_trapped_lift_is_an_urgent_escalation_and_an_urgent_repair_once(wx, wang, run_jobs, db_session):
    advice = wx.say("o_wang", "3号楼电梯困人了快来人")
    assert "警铃" in advice  # safety advice first, from the escalation
    [ticket] = _tickets()
    assert (ticket.kind, ticket.category, ticket.priority, ticket.building) == ("repair", "elevator", "urgent", "3")
    wx.say("o_wang", "电梯困人还没人来")  # a second cry for help while staff hold it: no second ticket
    assert len(_tickets()) == 1


def test_someone_fainting_is_escalated_but_is_not_a_repair(wx, wang):
    assert "120" in wx.say("o_wang", "楼下有人晕倒了")
    assert _tickets() == []


def test_a_question_on_the_side_is_answered_and_the_open_report_waits(wx, wang):
    asked = wx.say("o_wang", "水管漏水了")
    assert "具体在哪里" in asked
    aside = wx.say("o_wang", "30幢还有临时车位吗")  # parking is answered at once; the report stays open
    waits = "（您刚才的报修还没办完：接着回复即可，或回复“取消”放弃。）"
    assert aside == f"{parking_chat.NO_ZONES}\n\n{waits}"
    progress = wx.say("o_wang", "我报修的进度怎么样了")
    assert "没有正在处理" in progress and progress.endswith(waits)
    confirm = wx.say("o_wang", "我家")  # the report picks up where it was
    assert "地点：3幢2单元1201" in confirm
    wx.say("o_wang", "确认")
    assert [t.category for t in _tickets()] == ["water"]


def test_a_place_that_sounds_like_parking_is_still_the_answer_to_where(wx, wang):
    assert "具体在哪里" in wx.say("o_wang", "水管漏水了")
    confirm = wx.say("o_wang", "地下停车场B区")
    assert "地点：地下停车场B区" in confirm and "还没办完" not in confirm


def test_a_shared_problem_reported_yesterday_says_yesterday(wx, wang, make_resident, db_session):
    make_resident("3", "1", "101", name="赵大爷", openid="o_zhao")
    db_session.commit()
    wx.say("o_wang", "3号楼电梯坏了")
    wx.say("o_wang", "确认")
    [first] = _tickets()
    midnight = to_local(utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    first.created_at = (midnight - timedelta(minutes=1)).astimezone(UTC).replace(tzinfo=None)  # 23:59 yesterday
    db.session.commit()
    offer = wx.say("o_zhao", "3幢电梯又坏了")
    assert offer.startswith("3幢 电梯的问题，昨天23:59") and first.number in offer


def test_another_units_report_is_not_offered_as_the_same_problem(wx, wang, make_resident, db_session):
    make_resident("5", "2", "201", name="钱阿姨", openid="o_qian")
    make_resident("5", "3", "301", name="孙大爷", openid="o_sun")
    make_resident("5", "2", "601", name="李叔", openid="o_li")
    db_session.commit()
    assert "地点：5幢2单元" in wx.say("o_qian", "5幢2单元楼道灯不亮了")
    wx.say("o_qian", "确认")
    [first] = _tickets()
    assert first.unit == "2"
    other_unit = wx.say("o_sun", "5幢楼道灯不亮了")  # 3单元's stairwell is another problem
    assert "已有邻居反映过了" not in other_unit and "确认" in other_unit
    wx.say("o_sun", "取消")
    same_unit = wx.say("o_li", "5幢楼道灯不亮了")  # a neighbour in 2单元 is offered to follow
    assert "已有邻居反映过了" in same_unit and first.number in same_unit
