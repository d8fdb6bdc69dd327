"""Wishes in chat, end to end through /wechat with signed XML: make one, be offered a similar one, ask status."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.db import db
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes.models import FacilityItem, Wish, WishFollower, WishSupport


@pytest.fixture
def wang(make_resident, db_session):
    resident = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    db_session.commit()
    return resident


@pytest.fixture
def li(make_resident, db_session, wang):
    resident = make_resident("5", "1", "301", name="李叔叔", openid="o_li")
    db_session.commit()
    return resident


def _wishes() -> list[Wish]:
    db.session.expire_all()
    return list(db.session.scalars(select(Wish).order_by(Wish.id)))


def test_a_wish_mapped_to_the_catalogue_is_confirmed_then_created(wx, wang):
    asked = wx.say("o_wang", "希望装个自助打印机")
    assert "心愿：自助打印机" in asked and "设施目录：自助打印机" in asked and "确认" in asked
    assert _wishes() == []  # nothing before the resident confirms
    done = wx.say("o_wang", "确认")
    [wish] = _wishes()
    item = db.session.get(FacilityItem, wish.item_id)
    assert item.name == "自助打印机" and item.community_id == wang.community_id
    assert (wish.title, wish.status, wish.supports_count, wish.resident_id) == ("自助打印机", "collecting", 1,
                                                                                wang.id)
    assert f"编号{wish.id}" in done and "还差19人" in done
    assert wish.description == "希望装个自助打印机" and wish.source == "oa"
    assert db.session.scalar(select(WishFollower.resident_id).where(WishFollower.wish_id == wish.id)) == wang.id


def test_an_unknown_facility_stays_free_text(wx, wang):
    asked = wx.say("o_wang", "能不能建个室内恒温游泳池")
    assert "心愿：" in asked and "设施目录" not in asked
    wx.say("o_wang", "确认")
    [wish] = _wishes()
    assert wish.item_id is None and "游泳池" in wish.title


def test_a_neighbour_is_offered_the_similar_wish_and_supports_it_instead(wx, wang, li):
    wx.say("o_wang", "希望小区装个自助打印机")
    wx.say("o_wang", "确认")
    offered = wx.say("o_li", "能不能放一台打印机，打印作业方便")
    assert "邻居已经提过类似的心愿" in offered and "「自助打印机」" in offered and "已有1人支持" in offered
    done = wx.say("o_li", "支持")
    [wish] = _wishes()  # no duplicate was opened
    assert "已为您支持心愿「自助打印机」" in done and "目前2人支持" in done
    assert wish.supports_count == 2
    assert {s.resident_id for s in db.session.scalars(select(WishSupport))} == {wang.id, li.id}
    again = wx.say("o_li", "希望装个自助打印机")
    assert "邻居已经提过类似的心愿" in again
    assert "之前已经支持过" in wx.say("o_li", "1")
    assert _wishes()[0].supports_count == 2


def test_the_neighbour_can_still_open_their_own_wish(wx, wang, li):
    wx.say("o_wang", "希望装个自助打印机")
    wx.say("o_wang", "确认")
    wx.say("o_li", "希望装个自助打印机")
    assert "确认" in wx.say("o_li", "新建")
    wx.say("o_li", "确认")
    assert len(_wishes()) == 2


def test_asking_what_is_wished_when_the_message_names_nothing(wx, wang):
    asked = wx.say("o_wang", "希望小区能增加点东西")
    if "您希望小区增加什么" in asked:  # the parser found no facility: the flow asks for it
        assert "设施目录：长椅" in wx.say("o_wang", "长椅")
    else:
        assert "心愿：" in asked


def test_asking_for_the_status_of_a_wish(wx, wang, li, make_staff, db_session):
    wx.say("o_wang", "希望装个自助打印机")
    wx.say("o_wang", "确认")
    status = wx.say("o_wang", "我提的心愿怎么样了")
    assert "「自助打印机」征集支持中，已有1人支持" in status
    committee = make_staff("committee", community=wang.household.unit.building.community)
    wish_review.accept(db_session, _wishes()[0].id, committee, note="下月安装")
    db_session.commit()
    assert "「自助打印机」已采纳" in wx.say("o_wang", "我提的心愿怎么样了")


def test_an_unbound_user_is_asked_to_bind(wx, wang):
    assert "先绑定房号" in wx.say("o_stranger", "希望装个自助打印机")


def test_similar_titles_are_found_across_wording(db_session, wang, li):
    wish = wishes.create_wish(db_session, wang, title="篮球场")
    assert wishes.similar_wishes(db_session, wang.community_id, title="小区篮球场") == [wish]
    assert wishes.similar_wishes(db_session, wang.community_id, title="游泳池") == []


def test_wish_status_in_words_the_parser_does_not_place(wx, wang):
    assert "还没有提过或支持过心愿" in wx.say("o_wang", "我的心愿有进展吗")
    wx.say("o_wang", "希望装个自助打印机")
    wx.say("o_wang", "确认")
    assert "「自助打印机」征集支持中" in wx.say("o_wang", "心愿的进度")
    assert "「自助打印机」征集支持中" in wx.say("o_wang", "我报修的水管修好了没")  # tickets, then open wishes


def test_what_the_neighbours_want(wx, wang, li):
    assert "还没有正在征集的心愿" in wx.say("o_wang", "大家最想要什么")
    wx.say("o_wang", "希望装个自助打印机")
    wx.say("o_wang", "确认")
    wx.say("o_li", "能不能建个篮球场")
    wx.say("o_li", "确认")
    wishes.support(db.session, _wishes()[0], db.session.merge(li))
    db.session.commit()
    ranking = wx.say("o_li", "心愿排行榜")
    assert ranking.index("「自助打印机」2人支持") < ranking.index("「篮球场」1人支持")
    assert "5幢的邻居最想要：「自助打印机」1人、「篮球场」1人" in ranking  # ties: the older wish first
