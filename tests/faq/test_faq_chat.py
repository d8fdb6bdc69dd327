"""Common questions, thanks and goodbyes in the chat, end to end through /wechat with signed XML."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.chat.menu import help_text
from app.chat.models import Conversation
from app.core.db import db
from app.escalations.models import Escalation
from app.faq import chat as faq_chat
from app.faq.demo import seed_faq
from app.faq.models import FaqEntry


@pytest.fixture
def wang(make_resident, db_session):
    resident = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    seed_faq(db_session, resident.household.unit.building.community)
    db_session.commit()
    return resident


def _answer_of(question: str) -> str:
    return db.session.scalar(select(FaqEntry.answer).where(FaqEntry.question == question))


def _conversation(openid: str = "o_wang") -> Conversation:
    db.session.expire_all()
    return db.session.scalar(select(Conversation).where(Conversation.openid == openid))


@pytest.mark.parametrize(("text", "question"), [
    ("物业电话多少", "物业电话是多少"),
    ("物业费怎么交", "物业费怎么交"),
    ("垃圾几点收", "垃圾几点收"),
    ("诊所几点开门", "社区卫生服务站几点开门"),
    ("物业几点上班", "物业几点上班"),
    ("物业电弧多少", "物业电话是多少"),  # a typo
])
def test_common_questions_get_the_communitys_answer(wx, wang, text, question):
    reply = wx.say("o_wang", text)
    assert reply == _answer_of(question)
    assert help_text() not in reply


def test_an_info_question_the_community_has_no_answer_for_offers_a_person(wx, wang):
    reply = wx.say("o_wang", "保安电话多少")
    assert reply == faq_chat.NOT_KNOWN and "转人工" in reply
    assert help_text() not in reply
    db.session.expire_all()
    assert db.session.scalars(select(Escalation)).all() == []  # offered, not handed over
    assert wx.say("o_wang", "保安电话多少") == faq_chat.NOT_KNOWN  # not a miss either: no handoff the second time
    assert db.session.scalars(select(Escalation)).all() == []


def test_a_deactivated_or_another_communitys_entry_is_never_answered(wx, wang, make_community, db_session):
    entry = db_session.scalar(select(FaqEntry).where(FaqEntry.question == "垃圾几点收"))
    entry.active = False
    other = make_community("别的小区")
    db_session.add(FaqEntry(community_id=other.id, question="保安电话多少", answer="别的小区的保安电话", synonyms=[]))
    db_session.commit()
    assert wx.say("o_wang", "垃圾几点收") == faq_chat.NOT_KNOWN
    assert wx.say("o_wang", "保安电话多少") == faq_chat.NOT_KNOWN


def test_a_close_second_entry_is_mentioned(wx, wang, db_session):
    community_id = wang.community_id
    db_session.add_all([
        FaqEntry(community_id=community_id, question="小区东门几点关门", answer="东门 23:00 关门。", synonyms=[]),
        FaqEntry(community_id=community_id, question="小区北门几点关门", answer="北门 22:00 关门。", synonyms=[]),
    ])
    db_session.commit()
    reply = wx.say("o_wang", "小区门几点关门")
    assert reply.startswith(("东门 23:00 关门。", "北门 22:00 关门。"))
    assert "您可能还想问：" in reply and ("小区北门几点关门" in reply or "小区东门几点关门" in reply)
    assert wx.say("o_wang", "小区东门几点关门") == "东门 23:00 关门。"  # asked exactly: one answer


@pytest.mark.parametrize(("text", "start"), [
    ("谢谢", "不客气，王阿姨"), ("好的谢谢", "不客气，王阿姨"), ("再见", "好的，再见，王阿姨"),
    ("拜拜", "好的，再见，王阿姨"), ("没事了", "好的，再见，王阿姨"), ("谢谢，再见", "不客气，再见，王阿姨"),
    ("88", "好的，再见，王阿姨"),  # the parser calls it out of scope: still a goodbye
])
def test_thanks_and_goodbyes_get_a_short_answer(wx, wang, text, start):
    reply = wx.say("o_wang", text)
    assert reply.startswith(start)
    assert help_text() not in reply and "邻里助手" not in reply


def test_a_plain_greeting_still_gets_the_greeting_and_the_menu(wx, wang):
    reply = wx.say("o_wang", "你好")
    assert reply.startswith("王阿姨，您好！") and help_text() in reply


def test_thanks_inside_an_open_flow_is_answered_and_the_draft_recalled(wx, wang):
    assert "确认" in wx.say("o_wang", "3号楼电梯坏了")
    reply = wx.say("o_wang", "好的谢谢")
    assert reply.startswith("不客气") and "您刚才的报修还在等您确认：回复“确认”提交" in reply
    assert (_conversation().dialog or {}).get("flow") == "repair"  # the draft still waits


def test_an_info_question_inside_a_flow_is_answered_on_the_side(wx, wang):
    assert "确认" in wx.say("o_wang", "3号楼电梯坏了")
    reply = wx.say("o_wang", "物业电话多少")
    assert reply.startswith(_answer_of("物业电话是多少")) and "您刚才的报修还在等您确认" in reply
    assert (_conversation().dialog or {}).get("flow") == "repair"


def test_someone_not_bound_is_answered_when_there_is_one_community(wx, wang, make_community, db_session):
    assert wx.say("o_stranger", "物业电话多少") == _answer_of("物业电话是多少")
    make_community("第二个小区")
    db_session.commit()
    assert wx.say("o_stranger", "物业电话多少") == faq_chat.NOT_BOUND
    assert wx.say("o_stranger", "谢谢").startswith("不客气！")


def test_a_near_certain_match_is_answered_when_the_parser_is_unsure(wx, wang):
    reply = wx.say("o_wang", "失物招领")  # no question word: the parser does not call it info
    assert reply == _answer_of("东西丢了去哪找")
