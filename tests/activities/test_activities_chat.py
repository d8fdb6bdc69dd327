"""Activities in chat, end to end through /wechat: what is on, does it still take place, sign up (confirm,
seat or waitlist), join a club, cancel, confirm a promotion; polite answers when nothing matches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.activities import activities, clubs, signups
from app.activities.models import ClubMember, Signup
from app.core.clock import local_now
from app.core.db import db


@pytest.fixture
def world(make_resident, make_staff, db_session):
    wang = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    li = make_resident("5", "1", "101", name="李大爷", openid="o_li")
    cid = wang.community_id
    tomorrow = local_now().date() + timedelta(days=1)
    taiji = activities.create_activity(db_session, cid, title="太极拳", place="中心广场", capacity=0,
                                       starts_at=activities.local_to_utc(tomorrow, "07:30"))
    saturday = local_now().date() + timedelta(days=(5 - local_now().weekday()) % 7 or 7)
    shufa = activities.create_activity(db_session, cid, title="书法课", place="书画室", capacity=1,
                                       starts_at=activities.local_to_utc(saturday, "09:00"))
    club = clubs.create_club(db_session, cid, name="合唱团", organiser=make_staff("committee"), every_weeks=1,
                             weekday=2, session_time="14:30")
    db_session.commit()
    return {"wang": wang, "li": li, "taiji": taiji, "shufa": shufa, "club": club}


def _signup(resident_id: int, activity_id: int):
    db.session.expire_all()
    return db.session.scalar(select(Signup).where(Signup.resident_id == resident_id, Signup.activity_id == activity_id))


def test_whats_on_and_does_it_still_take_place(wx, world):
    reply = wx.say("o_wang", "最近有什么活动")
    assert "太极拳" in reply and "书法课" in reply and "余1位" in reply
    assert "还上的" in wx.say("o_wang", "明天的太极拳还上吗")
    activities.cancel_activity(db.session, world["taiji"])
    db.session.commit()
    assert "取消" in wx.say("o_wang", "明天的太极拳还上吗")
    polite = wx.say("o_wang", "明天的瑜伽还上吗")
    assert "还没有安排" in polite


def test_sign_up_confirm_then_waitlist(wx, world):
    reply = wx.say("o_wang", "帮我报名周六的书法课")
    assert "请确认报名" in reply and "书法课" in reply
    assert "报名成功" in wx.say("o_wang", "确认")
    assert _signup(world["wang"].id, world["shufa"].id).status == "confirmed"
    assert "名额已满" in wx.say("o_li", "帮我报名周六的书法课")
    assert "候补" in wx.say("o_li", "确认")
    assert _signup(world["li"].id, world["shufa"].id).status == "waiting"


def test_sign_up_can_be_declined_and_nothing_matching_is_polite(wx, world):
    wx.say("o_wang", "帮我报名周六的书法课")
    wx.say("o_wang", "取消")
    assert _signup(world["wang"].id, world["shufa"].id) is None
    assert "没有找到" in wx.say("o_wang", "帮我报名周六的瑜伽课")


def test_join_a_club_in_chat(wx, world):
    assert "请确认加入社团：合唱团" in wx.say("o_wang", "我想参加合唱团")
    assert "已加入合唱团" in wx.say("o_wang", "确认")
    db.session.expire_all()
    assert db.session.scalar(select(ClubMember.resident_id).where(ClubMember.club_id == world["club"].id)) \
        == world["wang"].id


def test_cancel_in_chat_promotes_the_waiting_neighbour_who_confirms(wx, world):
    signups.sign_up(db.session, world["wang"], world["shufa"].id)
    signups.sign_up(db.session, world["li"], world["shufa"].id)
    db.session.commit()
    reply = wx.say("o_wang", "周六的书法课我去不了了 帮我取消报名")
    assert "要取消报名吗" in reply
    assert "已取消" in wx.say("o_wang", "确认")
    assert _signup(world["li"].id, world["shufa"].id).status == "offered"
    assert "已确认" in wx.say("o_li", "确认参加")
    assert _signup(world["li"].id, world["shufa"].id).status == "confirmed"


def test_cancel_with_nothing_signed_up_is_polite(wx, world):
    assert "没有报名" in wx.say("o_wang", "取消报名")


def test_several_matches_are_listed_and_picked_by_number(wx, world, db_session):
    later = world["shufa"].starts_at + timedelta(days=7)
    second = activities.create_activity(db_session, world["wang"].community_id, title="书法课", place="书画室",
                                        capacity=5, starts_at=later)
    db_session.commit()
    listed = wx.say("o_wang", "报名书法课")
    assert "1. " in listed and "2. " in listed
    assert "请确认报名" in wx.say("o_wang", "2")
    wx.say("o_wang", "确认")
    assert _signup(world["wang"].id, second.id).status == "confirmed"


def test_someone_not_bound_is_asked_to_bind(wx, world):
    assert "绑定" in wx.say("o_stranger", "帮我报名周六的书法课")
