"""Every registered message type and event gets its answer; the reply budget hands slow work to a worker."""

from __future__ import annotations

from sqlalchemy import select
from wechat_post import fixture, text_xml

from app.chat.core import HUMAN_REPLY
from app.chat.menu import help_text
from app.chat.models import Conversation, Message
from app.core.db import db
from bots.handlers import IMAGE_RECEIVED, UNSUPPORTED, VOICE_UNHEARD, WELCOME
from bots.registry import registered

OPENID = "oFixtureUser0000000000000001"


def _reply(wx, name: str) -> str | None:
    fields = wx.reply(wx.post(fixture(name)))
    return None if fields is None else fields["Content"]


def _conversation() -> Conversation:
    return db.session.scalar(select(Conversation).where(Conversation.openid == OPENID))


def test_every_kind_of_message_has_a_handler():
    assert {"text", "voice", "image", "location", "event:subscribe", "event:unsubscribe", "event:click",
            "*", "event:*"} <= set(registered())


def test_text_goes_to_the_chat_core_and_opens_the_service_window(wx):
    assert "您好" in _reply(wx, "text.xml")
    conversation = _conversation()
    assert conversation.last_inbound_at is not None and conversation.channel == "oa"
    [message] = db.session.scalars(select(Message).where(Message.direction == "in")).all()
    assert message.payload["parse"]["intent"] == "greeting"  # what the parser made of it, kept with it


def test_voice_is_answered_from_its_recognition_or_asks_to_type(wx, clock):
    clock.at(10, 0)  # in business hours: off hours a handoff also says when staff start
    assert _reply(wx, "voice.xml") == HUMAN_REPLY
    assert _reply(wx, "voice_unrecognised.xml") == VOICE_UNHEARD


def test_image_and_location_are_acknowledged(wx):
    assert _reply(wx, "image.xml") == IMAGE_RECEIVED
    assert "浙江省杭州市西湖区文三路" in _reply(wx, "location.xml")
    stored = db.session.scalar(select(Message).where(Message.msg_type == "image"))
    assert stored.payload["PicUrl"].startswith("http://mmbiz.qpic.cn/")


def test_unknown_message_types_get_a_polite_default(wx):
    assert _reply(wx, "video.xml") == UNSUPPORTED


def test_subscribe_welcomes_and_explains_binding_then_unsubscribe_marks_the_conversation(wx):
    welcome = _reply(wx, "subscribe.xml")
    assert welcome == WELCOME and "绑定" in welcome
    assert _reply(wx, "unsubscribe.xml") is None
    assert "unsubscribed_at" in _conversation().dialog


def test_subscribe_of_a_bound_resident_greets_them_by_name(wx, make_resident, db_session):
    make_resident(name="赵大爷", openid=OPENID)
    db_session.commit()
    assert _reply(wx, "subscribe.xml").startswith("赵大爷，欢迎回来")


def test_menu_click_dispatches_on_the_event_key(wx, client, clock):
    clock.at(10, 0)  # in business hours: off hours a handoff also says when staff start
    assert _reply(wx, "click_help.xml").startswith(help_text())
    bind = fixture("click_help.xml").replace("menu:help", "menu:bind").replace("1764000080", "1764000081")
    assert "房号" in wx.reply(wx.post(bind))["Content"]
    human = fixture("click_help.xml").replace("menu:help", "menu:human").replace("1764000080", "1764000082")
    assert wx.reply(wx.post(human))["Content"] == HUMAN_REPLY
    unknown = fixture("click_help.xml").replace("menu:help", "menu:nope").replace("1764000080", "1764000083")
    assert wx.reply(wx.post(unknown))["Content"].startswith(help_text())


def test_events_that_need_no_answer_get_success(wx):
    assert _reply(wx, "template_finish.xml") is None


def test_over_budget_the_answer_comes_as_a_customer_service_message(app, wx, monkeypatch, run_jobs,
                                                                   fake_wechat, clock):
    clock.at(10, 0)  # in business hours: off hours a handoff also says when staff start
    monkeypatch.setitem(app.config, "WECHAT_REPLY_BUDGET_MS", 0)
    xml = text_xml("o_later", "转人工", msg_id=880_001)
    params = wx.params()
    first = wx.post(xml, params)
    assert first.get_data(as_text=True) == "success"
    run_jobs()
    sent = fake_wechat.sent_messages("custom")
    assert sent == [{"touser": "o_later", "msgtype": "text", "text": {"content": HUMAN_REPLY}}]
    out = db.session.scalar(select(Message).where(Message.direction == "out"))
    assert out.delivery == "sent" and out.content == HUMAN_REPLY and out.dedup_key.startswith("reply:")
    # WeChat's retry of the deferred message: `success` again, and nothing is sent twice
    assert wx.post(xml, params).get_data(as_text=True) == "success"
    run_jobs()
    assert len(fake_wechat.sent_messages("custom")) == 1


def test_a_failed_customer_service_message_is_recorded(app, wx, monkeypatch, run_jobs, fake_wechat):
    monkeypatch.setitem(app.config, "WECHAT_REPLY_BUDGET_MS", 0)
    fake_wechat.fail_next("message/custom/send", 45015, errmsg="response out of time limit")
    assert wx.post(text_xml("o_gone", "你好")).get_data(as_text=True) == "success"
    run_jobs()
    out = db.session.scalar(select(Message).where(Message.direction == "out"))
    assert out.delivery == "failed" and out.payload["errcode"] == 45015
    assert fake_wechat.sent_messages("custom") == []


def test_quick_events_are_answered_in_line_even_with_no_budget(app, wx, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_REPLY_BUDGET_MS", 0)
    assert _reply(wx, "subscribe.xml") == WELCOME
    assert _reply(wx, "voice_unrecognised.xml") == VOICE_UNHEARD
