"""Handoff triggers and conversation states, driven through the real /wechat endpoint with signed XML.

The misses, the offer of a person, the way back and the idle return: test_fallback_and_handoff.py."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from wechat_post import text_xml

from app.chat.models import Conversation, Message
from app.core.clock import utcnow
from app.core.db import db
from app.escalations import escalations, replies
from app.escalations.jobs import alert_staff
from app.escalations.models import Escalation


@pytest.fixture
def wang(make_resident):
    return make_resident("1", "1", "101", name="王阿姨", openid="o_wang")


def _conversation(openid: str = "o_wang") -> Conversation:
    db.session.expire_all()
    return db.session.scalar(select(Conversation).where(Conversation.openid == openid))


def _escalations() -> list[Escalation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Escalation).order_by(Escalation.id)))


def test_human_intent_hands_off_and_the_bot_then_stays_silent(wx, wang, make_staff, clock):
    clock.at(10, 0)
    assert wx.say("o_wang", "我要找物业的人") == escalations.HUMAN_REPLY
    [esc] = _escalations()
    assert (esc.trigger, esc.status, esc.urgent, esc.building) == ("human", "waiting", False, "1")
    assert esc.trigger_message_id is not None and esc.first_response_due > esc.created_at
    assert _conversation().state == "waiting_for_staff"
    # while staff hold the conversation the bot says nothing, but for one note on how the handoff works
    assert "结束人工" in wx.say("o_wang", "你好")
    assert wx.say("o_wang", "3号楼电梯坏了") is None
    staff = make_staff("property")
    escalations.claim(db.session, esc.id, staff)
    db.session.commit()
    assert _conversation().state == "with_staff"
    assert wx.say("o_wang", "今天天气怎么样") is None
    assert len(_escalations()) == 1  # messages during the handoff make no new escalation


def test_the_bot_takes_over_again_after_resolution(wx, wang, make_staff, run_jobs, fake_wechat, clock):
    clock.at(10, 0)
    wx.say("o_wang", "转人工")
    [esc] = _escalations()
    staff = make_staff("property")
    escalations.resolve(db.session, esc.id, staff)
    db.session.commit()
    assert _conversation().state == "resolved"
    run_jobs()  # the satisfaction question goes out
    assert any(escalations.SATISFACTION_QUESTION in m["text"]["content"]
               for m in fake_wechat.sent_messages("custom"))
    assert wx.say("o_wang", "1") == escalations.SATISFACTION_THANKS
    assert _escalations()[0].satisfaction == 1
    assert _conversation().state == "bot"
    assert wx.say("o_wang", "你好").startswith("王阿姨，您好")  # the bot, not the old agent
    assert wx.say("o_wang", "转人工").startswith(escalations.HUMAN_REPLY)  # a new handoff is a new escalation
    assert len(_escalations()) == 2


def test_two_misses_in_a_row_offer_a_person_and_only_yes_hands_off(wx, wang, clock):
    """Was: the second miss in a row escalated at once (FALLBACK_REPLY); now it offers, and 是 escalates."""
    clock.at(10, 0)
    assert wx.say("o_wang", "给我讲个笑话").startswith(replies.HINT_HEAD)  # first: asked to rephrase
    assert wx.say("o_wang", "你好").startswith("王阿姨")  # an understood message resets the count
    assert wx.say("o_wang", "给我讲个笑话").startswith(replies.HINT_HEAD)
    assert wx.say("o_wang", "阿斯顿发生").startswith(replies.OFFER)
    assert _escalations() == []
    assert wx.say("o_wang", "是") == escalations.HUMAN_REPLY
    [esc] = _escalations()
    assert esc.trigger == "fallback" and esc.summary == "机器人未能理解：给我讲个笑话 / 阿斯顿发生"


def test_only_answers_the_bot_gives_up_on_count_as_misses(wx, wang):
    assert wx.say("o_wang", "给我讲个笑话").startswith(replies.HINT_HEAD)
    assert wx.say("o_wang", "绑定").startswith("您已绑定")  # the chat core's own answer: the chain breaks
    assert wx.say("o_wang", "给我讲个笑话").startswith(replies.HINT_HEAD)
    assert wx.say("o_wang", "讲个故事吧").startswith(replies.OFFER)
    assert _escalations() == [] and _conversation().state == "bot"


@pytest.mark.parametrize("word", ["燃气味", "着火", "电梯困人", "有人晕倒"])
def test_safety_words_escalate_urgently_with_advice(wx, wang, make_staff, run_jobs, fake_wechat, app,
                                                     monkeypatch, word):
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", "wwcorp")
    monkeypatch.setitem(app.config, "WECOM_SECRET", "wecom-secret")
    monkeypatch.setitem(app.config, "WECOM_AGENT_ID", "1000002")
    app.extensions.get("wechat_clients", {}).pop("wecom", None)
    staff = make_staff("property", buildings=["1"])
    staff.wecom_userid = "li_wecom"
    far = make_staff("property", buildings=["9"])
    far.wecom_userid = "far_wecom"
    db.session.commit()
    answer = wx.say("o_wang", f"家里{word}了快来人")
    assert answer == escalations.SAFETY_ADVICE[word] + escalations.SAFETY_TAIL
    [esc] = _escalations()
    assert esc.urgent and esc.trigger == "safety"
    assert (esc.first_response_due - esc.created_at).total_seconds() == 5 * 60  # wall clock, not office hours
    run_jobs()
    sent = fake_wechat.sent_messages("wecom")
    alerts = [a for a in sent if a["text"]["content"].startswith("【紧急】转人工")]
    assert [a["touser"] for a in alerts] == ["li_wecom"]  # only staff whose scope covers building 1
    assert alerts[0]["text"]["content"].startswith(f"【紧急】转人工 #{esc.id}")
    assert {a["touser"] for a in sent} == {"li_wecom"}  # the urgent repair's alert (lift, gas) stays in scope too
    assert _escalations()[0].alert_channel == "wecom"
    app.extensions.get("wechat_clients", {}).pop("wecom", None)


@pytest.mark.parametrize("text", ["家里老人摔倒了起不来", "我老伴突然晕倒叫不醒了"])
def test_a_person_in_danger_gets_advice_and_an_urgent_escalation_never_the_menu(wx, wang, text):
    answer = wx.say("o_wang", text)
    assert "120" in answer and answer.endswith(escalations.SAFETY_TAIL)
    [esc] = _escalations()
    assert esc.urgent and esc.trigger == "safety"


def test_safety_words_are_answered_even_while_staff_hold_the_conversation(wx, wang, run_jobs):
    wx.say("o_wang", "转人工")
    assert "结束人工" in wx.say("o_wang", "随便说说")  # the one note of the handoff
    assert wx.say("o_wang", "随便说说吧") is None
    assert wx.say("o_wang", "楼道里有燃气味").startswith(escalations.SAFETY_ADVICE["燃气味"])
    [esc] = _escalations()  # the open escalation became urgent; no second one
    assert esc.urgent and esc.trigger == "safety"


def test_without_wecom_the_alert_stays_in_the_console(wx, wang, run_jobs, fake_wechat):
    wx.say("o_wang", "转人工")
    run_jobs()
    assert _escalations()[0].alert_channel == "console"
    assert fake_wechat.sent_messages("wecom") == []


def test_wechat_retries_and_job_reruns_never_escalate_twice(wx, wang, run_jobs, app, fake_wechat):
    xml = text_xml("o_wang", "转人工", msg_id=990_001)
    first = wx.reply(wx.post(xml))["Content"]
    for _ in range(3):  # WeChat's retries of the same MsgId
        assert wx.reply(wx.post(xml))["Content"] == first
    [esc] = _escalations()
    run_jobs()
    # the alert job run again by RQ: claimed once, sent once
    assert alert_staff(esc.id) == "already_alerted"
    # the chat core run again on the same inbound message (a rerun job): same escalation back
    conversation = _conversation()
    message = db.session.scalar(select(Message).where(Message.wechat_msg_id == "990001"))
    conversation.state = "bot"
    esc.status = "resolved"
    db.session.flush()
    again = escalations.escalate(db.session, conversation, trigger="human", text=message.content,
                                 now=utcnow())
    assert again.id == esc.id
    assert db.session.scalar(select(func.count()).select_from(Escalation)) == 1


def test_a_rerun_of_the_deferred_reply_job_escalates_once(wx, wang, app, monkeypatch, run_jobs, fake_wechat,
                                                          clock):
    clock.at(10, 0)
    monkeypatch.setitem(app.config, "WECHAT_REPLY_BUDGET_MS", 0)
    assert wx.post(text_xml("o_wang", "转人工", msg_id=990_002)).get_data(as_text=True) == "success"
    run_jobs()
    from app.chat.jobs import reply_later
    inbound = db.session.scalar(select(Message).where(Message.wechat_msg_id == "990002"))
    reply_later(inbound.id)  # RQ delivering the job a second time
    assert len(_escalations()) == 1
    assert [m["text"]["content"] for m in fake_wechat.sent_messages("custom")].count(
        escalations.HUMAN_REPLY) == 1
    # a deferred message while staff hold the conversation sends the handoff's one note, the next nothing
    wx.post(text_xml("o_wang", "有人吗", msg_id=990_003))
    run_jobs()
    assert "结束人工" in fake_wechat.sent_messages("custom")[-1]["text"]["content"]
    wx.post(text_xml("o_wang", "还有人吗", msg_id=990_004))
    run_jobs()
    assert len(fake_wechat.sent_messages("custom")) == 2


def test_staff_may_take_over_a_conversation_the_bot_is_having(wx, wang, make_staff):
    wx.say("o_wang", "你好")
    staff = make_staff("property")
    esc = escalations.take_over(db.session, _conversation().id, staff)
    db.session.commit()
    assert (esc.trigger, esc.status, esc.assignee_id) == ("takeover", "with_staff", staff.id)
    assert _conversation().state == "with_staff"
    assert wx.say("o_wang", "你好") is None


def test_asking_for_a_person_in_the_middle_of_a_form_ends_the_form(wx, wang, clock):
    clock.at(10, 0)
    wx.say("o_wang", "你好")
    conversation = _conversation()
    conversation.dialog = {"flow": "repair", "form": {"slots": {"category": "water"}, "step": "collect"}}
    db.session.commit()
    assert wx.say("o_wang", "转人工") == escalations.HUMAN_REPLY
    conversation = _conversation()
    assert conversation.state == "waiting_for_staff"
    assert "flow" not in conversation.dialog and "form" not in conversation.dialog
