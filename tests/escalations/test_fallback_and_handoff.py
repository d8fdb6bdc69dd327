"""Misunderstandings and the handoff both ways (issue 15, point 4), through /wechat with signed XML.

A first miss asks to rephrase with suggestions that fit; a second in a row offers a person, saying when
staff answer; only yes hands off. Cancel words are never misses. Off hours the resident is told when a
person will answer; while staff hold the conversation the resident gets one note, can go back to the bot
(结束人工), and after a long silence the bot takes the conversation back by itself.
"""

from __future__ import annotations

import pytest
from console_forms import login
from sqlalchemy import select

from app.chat.core import BIND_HINT
from app.chat.menu import help_text
from app.chat.models import Conversation
from app.core.db import db
from app.core.errors import Conflict
from app.core.periodic import registered
from app.escalations import escalations, replies
from app.escalations.jobs import return_idle
from app.escalations.models import Escalation, EscalationNote

MISS, MISS_AGAIN = "今天天气怎么样", "帮我写首诗"


@pytest.fixture
def wang(make_resident):
    return make_resident("1", "1", "101", name="王阿姨", openid="o_wang")


def _conversation(openid: str = "o_wang") -> Conversation:
    db.session.expire_all()
    return db.session.scalar(select(Conversation).where(Conversation.openid == openid))


def _escalations() -> list[Escalation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Escalation).order_by(Escalation.id)))


# --- the fallback policy ----------------------------------------------------------------------------


def test_a_first_miss_asks_to_rephrase_with_a_few_suggestions_not_the_whole_menu(wx, wang):
    answer = wx.say("o_wang", MISS)
    assert answer.startswith(replies.HINT_HEAD)
    assert "3号楼电梯坏了" in answer and "查车位" in answer and "预约" in answer
    assert "投诉" not in answer and "心愿" not in answer and answer != help_text()
    assert BIND_HINT not in answer
    assert _escalations() == []


def test_a_stranger_is_pointed_to_binding_and_what_works_unbound(wx):
    answer = wx.say("o_stranger", MISS)
    assert answer.startswith(replies.HINT_HEAD) and BIND_HINT in answer and "查车位" in answer
    assert "3号楼电梯坏了" not in answer  # a repair needs a bound flat first


def test_a_stranger_binding_is_reminded_of_the_step_they_are_at(wx, make_resident, db_session):
    make_resident("3", "2", "1201", name="孙叔叔", phone="13912345678")
    db_session.commit()
    wx.say("o_new", "绑定")
    assert replies.BINDING_ASKS in wx.say("o_new", MISS)
    assert wx.say("o_new", "3幢2单元1201 13912345678").startswith("已提交绑定申请")
    assert replies.BINDING_WAITS in wx.say("o_new", "讲个笑话吧")


def test_the_second_miss_in_a_row_offers_a_person_with_when_they_answer(wx, wang, clock):
    clock.at(10, 0)
    wx.say("o_wang", MISS)
    offer = wx.say("o_wang", MISS_AGAIN)
    assert offer.startswith(replies.OFFER)
    assert "工作时间 8:00–20:00" in offer and "30分钟内" in offer and "最晚今天 10:30" in offer
    assert _escalations() == [] and _conversation().state == "bot"  # "帮我写首诗" no longer escalates


def test_off_hours_the_offer_says_staff_answer_when_they_start(wx, wang, clock):
    clock.at(22, 30)
    wx.say("o_wang", MISS)
    offer = wx.say("o_wang", MISS_AGAIN)
    assert "下班时间" in offer and "明天 8:00" in offer and "最晚明天 8:30" in offer


@pytest.mark.parametrize("yes", ["是", "好", "要", "转人工"])
def test_yes_to_the_offer_hands_off(wx, wang, clock, yes):
    clock.at(10, 0)
    wx.say("o_wang", MISS)
    wx.say("o_wang", MISS_AGAIN)
    assert wx.say("o_wang", yes) == escalations.HUMAN_REPLY
    [esc] = _escalations()
    assert esc.trigger == "fallback" and MISS in esc.summary and MISS_AGAIN in esc.summary
    assert _conversation().state == "waiting_for_staff"


def test_no_to_the_offer_goes_back_to_normal(wx, wang):
    wx.say("o_wang", MISS)
    wx.say("o_wang", MISS_AGAIN)
    assert wx.say("o_wang", "不用") == replies.DECLINED
    assert wx.say("o_wang", "讲个笑话吧").startswith(replies.HINT_HEAD)  # a new chain: a first miss again
    assert _escalations() == [] and "offer" not in _conversation().dialog


def test_anything_else_after_the_offer_is_answered_by_the_bot(wx, wang):
    wx.say("o_wang", MISS)
    wx.say("o_wang", MISS_AGAIN)
    assert wx.say("o_wang", "你好").startswith("王阿姨，您好")
    assert wx.say("o_wang", "是") != escalations.HUMAN_REPLY  # the offer is over
    assert _escalations() == []


@pytest.mark.parametrize("text", ["转人工", "找人工", "人工客服"])
def test_asking_for_a_person_hands_off_at_once(wx, wang, clock, text):
    clock.at(10, 0)
    assert wx.say("o_wang", text) == escalations.HUMAN_REPLY
    assert [e.trigger for e in _escalations()] == ["human"]


@pytest.mark.parametrize("word", ["取消", "算了", "不用了"])
def test_cancel_words_are_never_misses(wx, wang, word):
    assert wx.say("o_wang", word) == replies.CANCEL_ACK
    assert wx.say("o_wang", MISS).startswith(replies.HINT_HEAD)
    assert wx.say("o_wang", word) == replies.CANCEL_ACK
    assert wx.say("o_wang", MISS_AGAIN).startswith(replies.HINT_HEAD)  # still a first miss: no offer
    assert _escalations() == []


def test_asking_what_the_bot_can_do_gets_the_whole_menu_and_is_no_miss(wx, wang):
    wx.say("o_wang", MISS)
    assert wx.say("o_wang", "帮助") == help_text()
    assert wx.say("o_wang", MISS_AGAIN).startswith(replies.HINT_HEAD)


def test_a_turn_that_is_no_miss_writes_nothing_to_the_conversation(wx, wang):
    wx.say("o_wang", "你好")
    before = _conversation().dialog
    wx.say("o_wang", "你好")
    assert _conversation().dialog == before and "missed" not in before


# --- the handoff, both ways ---------------------------------------------------------------------------


def test_off_hours_the_resident_is_told_when_a_person_will_answer(wx, wang, clock):
    clock.at(22, 30)
    answer = wx.say("o_wang", "转人工")
    assert "下班时间" in answer and "工作时间 8:00–20:00" in answer and "明天 8:00" in answer
    assert "结束人工" in answer
    clock.at(6, 0, days=1)
    assert "今天 8:00" in wx.say("o_zhao_early", "转人工")


def test_while_held_the_first_silent_message_gets_one_note_per_escalation(wx, wang, make_staff, clock):
    clock.at(22, 30)
    wx.say("o_wang", "转人工")
    note = wx.say("o_wang", "我家水管漏了")
    assert note == "已转给工作人员，工作人员上班后会尽快回复（工作时间 8:00–20:00）；如不需要人工了，回复“结束人工”。"
    assert wx.say("o_wang", "在吗") is None
    assert wx.say("o_wang", "有人吗") is None
    escalations.resolve(db.session, _escalations()[0].id, make_staff("property"))
    db.session.commit()
    clock.at(10, 0, days=1)
    wx.say("o_wang", "转人工")  # a new escalation: a new note
    note = wx.say("o_wang", "在吗")
    assert note.startswith("已转给工作人员，请稍候") and note.endswith("如不需要人工了，回复“结束人工”。")
    assert wx.say("o_wang", "在不在") is None


def test_messages_during_the_handoff_are_stored_and_shown_to_staff(app, wx, wang, make_staff, db_session):
    make_staff("property", username="li")
    db_session.commit()
    wx.say("o_wang", "转人工")
    wx.say("o_wang", "楼上漏水到我家了")
    wx.say("o_wang", "卫生间天花板在滴水")
    [esc] = _escalations()
    client = app.test_client()
    login(client, "li")
    texts = [m["text"] for m in client.get(f"/console/api/escalations/{esc.id}").get_json()["messages"]
             if m["who"] == "resident"]
    assert texts[-2:] == ["楼上漏水到我家了", "卫生间天花板在滴水"]
    assert "卫生间天花板在滴水" in client.get(f"/console/escalations/{esc.id}").get_data(as_text=True)


@pytest.mark.parametrize("word", ["不用人工了", "结束人工", "不需要了"])
def test_the_resident_can_go_back_to_the_bot(app, wx, wang, make_staff, db_session, word):
    make_staff("property", username="li")
    db_session.commit()
    wx.say("o_wang", "转人工")
    assert wx.say("o_wang", word) == replies.WITHDRAWN
    [esc] = _escalations()
    assert esc.status == "withdrawn" and esc.resolved_at is not None and not esc.is_open
    assert _conversation().state == "bot"
    assert wx.say("o_wang", "你好").startswith("王阿姨，您好")  # the bot answers again
    note = db.session.scalar(select(EscalationNote).where(EscalationNote.escalation_id == esc.id))
    assert word in note.body and note.staff_id is None
    client = app.test_client()
    login(client, "li")
    page = client.get(f"/console/escalations/{esc.id}").get_data(as_text=True)
    assert "住户已结束人工" in page and "结束了人工服务" in page
    closed = client.get("/console/api/escalations?filter=resolved").get_json()["rows"]
    assert [(r["id"], r["status_label"]) for r in closed] == [(esc.id, "住户已结束人工")]
    assert client.get("/console/api/escalations?filter=waiting").get_json()["rows"] == []


def test_the_resident_can_go_back_even_when_staff_took_it(wx, wang, make_staff, db_session):
    wx.say("o_wang", "转人工")
    staff = make_staff("property")
    escalations.claim(db.session, _escalations()[0].id, staff)
    db_session.commit()
    assert wx.say("o_wang", "结束人工") == replies.WITHDRAWN
    assert _escalations()[0].status == "withdrawn" and _conversation().state == "bot"
    with pytest.raises(Conflict, match="住户已结束人工"):  # a late staff reply is refused, saying why
        escalations.reply(db.session, _escalations()[0].id, staff, "您好")


def test_ending_a_handoff_when_there_is_none_asks_for_no_person(wx, wang):
    assert wx.say("o_wang", "结束人工") == replies.NOTHING_TO_END  # the parser reads it as "human"
    assert _escalations() == []


def test_a_resolved_handoff_gives_the_conversation_back_to_the_bot(wx, wang, make_staff):
    wx.say("o_wang", "转人工")
    escalations.resolve(db.session, _escalations()[0].id, make_staff("property"))
    db.session.commit()
    assert wx.say("o_wang", "你好").startswith("王阿姨，您好")


def test_the_bot_takes_a_silent_handoff_back_after_a_day(wx, wang, clock, run_jobs, fake_wechat):
    assert "app.escalations.jobs.return_idle" in [job.func for job in registered()]
    clock.at(10, 0)
    wx.say("o_wang", "转人工")
    clock.at(9, 0, days=1)  # 23 hours of silence: still held
    assert return_idle() == 0
    assert _escalations()[0].status == "waiting"
    wx.say("o_wang", "还在等")  # the resident's message is activity: the 24 hours start again
    clock.at(10, 30)  # 24.5 hours after the handoff, 1.5 after the message
    assert return_idle() == 0
    clock.at(9, 30, days=1)
    assert return_idle() == 1
    run_jobs()  # the notification to the resident goes out
    [esc] = _escalations()
    assert esc.status == "timed_out" and _conversation().state == "bot"
    told = [m["text"]["content"] for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]
    assert told == [replies.returned_idle(24)] and "转人工" in told[0]
    assert return_idle() == 0  # run again: nothing more, nothing sent twice
    run_jobs()
    assert len([m for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]) == 1
    assert wx.say("o_wang", "你好").startswith("王阿姨，您好")


def test_staff_activity_keeps_a_handoff_and_the_silence_is_configurable(app, wx, wang, clock, make_staff,
                                                                       monkeypatch, run_jobs, fake_wechat):
    monkeypatch.setitem(app.config, "ESCALATION_IDLE_RETURN_HOURS", 2)
    clock.at(10, 0)
    wx.say("o_wang", "转人工")
    clock.at(11, 30)
    escalations.claim(db.session, _escalations()[0].id, make_staff("property"))  # staff activity
    db.session.commit()
    clock.at(13, 0)
    assert return_idle() == 0
    clock.at(13, 31)
    assert return_idle() == 1
    run_jobs()
    assert "2小时" in fake_wechat.sent_messages("custom")[-1]["text"]["content"]
