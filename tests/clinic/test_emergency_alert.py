"""A person in danger: advice to call 120 first, an urgent escalation, and the household's family-doctor
team told on WeChat Work; a fire is not the doctor's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.clinic import clinic
from app.clinic.models import FamilyDoctorMember, FamilyDoctorTeam
from app.core.db import db
from app.escalations.models import Escalation


@pytest.fixture
def area(db_session, make_resident, make_staff):
    """王阿姨 3幢1201 signed to doctor Chen's team; 赵大爷 5幢101 unsigned, in doctor He's buildings."""
    wang = make_resident("3", "2", "1201", name="王阿姨", phone="13900001111", openid="o_wang")
    community = wang.household.unit.building.community
    zhao = make_resident("5", "1", "101", name="赵大爷", openid="o_zhao", community=community)
    chen = make_staff("doctor", username="dr_chen", community=community)
    he = make_staff("doctor", username="dr_he", buildings=["5"], community=community)
    chen.wecom_userid, he.wecom_userid = "chen_wecom", "he_wecom"
    team = FamilyDoctorTeam(community_id=wang.community_id, name="陈文团队")
    db_session.add(team)
    db_session.flush()
    db_session.add(FamilyDoctorMember(team_id=team.id, staff_id=chen.id))
    clinic.sign_household(db_session, wang.household_id, team.id)
    db_session.commit()
    return {"wang": wang, "zhao": zhao}


def _alerts(fake_wechat) -> list[tuple[str, str]]:
    return [(m["touser"], m["text"]["content"]) for m in fake_wechat.sent_messages("wecom")]


def test_a_fall_reaches_the_households_own_team(wx, area, wecom, run_jobs, fake_wechat):
    reply = wx.say("o_wang", "我妈摔倒了起不来")
    assert "120" in reply and "转人工" not in reply[:10]
    db.session.expire_all()
    [escalation] = db.session.scalars(select(Escalation)).all()
    assert escalation.urgent
    run_jobs()
    [(to, text)] = _alerts(fake_wechat)
    assert to == "chen_wecom" and "紧急求助" in text and "王阿姨" in text and "3幢2单元1201" in text
    assert "摔倒" in text


def test_an_unsigned_household_reaches_the_doctor_of_its_building(wx, area, wecom, run_jobs, fake_wechat):
    wx.say("o_zhao", "我老伴晕倒了叫不醒")
    run_jobs()
    assert [to for to, _ in _alerts(fake_wechat)] == ["he_wecom"]


def test_a_fire_is_not_sent_to_the_doctor(wx, area, wecom, run_jobs, fake_wechat):
    reply = wx.say("o_wang", "楼道里冒烟了")
    assert "119" in reply
    run_jobs()
    assert _alerts(fake_wechat) == []
