"""The demo seed's common questions: the property phone, hours, fees, rubbish, the clinic and more; once; and the
chat answers them."""

from __future__ import annotations

from sqlalchemy import func, select

from app.community.demo import DEMO_COMMUNITY, seed_demo, steps
from app.community.models import Community
from app.faq import faq
from app.faq.demo import DEMO_FAQ, seed_faq
from app.faq.models import FaqEntry


def test_seed_adds_the_demo_questions_once(app, db_session):
    assert seed_faq in steps()
    seed_demo(db_session)
    db_session.commit()
    community = db_session.scalar(select(Community).where(Community.name == DEMO_COMMUNITY))
    questions = {e.question for e in faq.entries(db_session, community.id)}
    assert len(questions) == len(DEMO_FAQ) >= 12
    for needed in ("物业电话是多少", "物业几点上班", "物业费怎么交", "垃圾几点收", "社区卫生服务站几点开门",
                   "停车费怎么收", "东西丢了去哪找"):
        assert needed in questions
    assert all(e.active and e.answer and e.synonyms for e in faq.entries(db_session, community.id))
    seed_demo(db_session)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(FaqEntry)) == len(DEMO_FAQ)


def test_every_demo_question_and_synonym_finds_its_own_entry(app, db_session, make_community):
    community = make_community()
    seed_faq(db_session, community)
    for _category, question, synonyms, _answer in DEMO_FAQ:
        for phrase in (question, *synonyms):
            top, _close = faq.find(db_session, community.id, phrase)
            assert top is not None and top.entry.question == question, phrase


def test_the_demo_answers_residents_questions_in_the_chat(wx, app, db_session):
    seed_demo(db_session)
    db_session.commit()
    phone = db_session.scalar(select(FaqEntry.answer).where(FaqEntry.question == "物业电话是多少"))
    assert wx.say("o_demo_0001", "物业电话多少") == phone
    assert "0571" in phone
