"""Issue 15, point 9, through /wechat: the community's wishes listed in chat (有哪些心愿 / 大家都许了什么愿 /
心愿榜), and a wish supported by name or number outside a draft (支持打印机那个 / 我也想要自助打印机 /
支持2 right after the list)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.chat.models import Conversation
from app.core.db import db
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes.chat_list import LIST_MINUTES
from app.wishes.models import Wish, WishFollower, WishSupport


@pytest.fixture
def people(make_resident, community, db_session):
    """王阿姨 (3幢, also signed in to the mini-program as wxa_wang), 李叔叔 and 张奶奶 (5幢), one community."""
    homes = (("3", "2", "1201", "王阿姨", "o_wang", "wxa_wang"), ("5", "1", "301", "李叔叔", "o_li", None),
             ("5", "1", "302", "张奶奶", "o_zhang", None))
    residents = {openid: make_resident(b, u, r, name=n, openid=openid, wxa_openid=wxa, community=community)
                 for b, u, r, n, openid, wxa in homes}
    db_session.commit()
    return residents


@pytest.fixture
def printer_and_court(people, db_session):
    """自助打印机 (王阿姨's, supported by 李叔叔: 2) and 篮球场 (张奶奶's: 1), both collecting."""
    printer = wishes.create_wish(db_session, people["o_wang"], title="自助打印机")
    court = wishes.create_wish(db_session, people["o_zhang"], title="篮球场")
    wishes.support(db_session, printer, people["o_li"])
    db_session.commit()
    return printer, court


def _wish(title: str) -> Wish:
    db.session.expire_all()
    return db.session.scalar(select(Wish).where(Wish.title == title))


def _supporters(wish: Wish) -> set[int]:
    return set(db.session.scalars(select(WishSupport.resident_id).where(WishSupport.wish_id == wish.id)))


def _flow(openid: str) -> str | None:
    db.session.expire_all()
    conversation = db.session.scalar(select(Conversation).where(Conversation.openid == openid))
    return (conversation.dialog or {}).get("flow")


# ---- the list ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["有哪些心愿", "大家都许了什么愿", "心愿榜"])
def test_the_top_open_wishes_are_listed_numbered_with_stage_and_supports(wx, people, printer_and_court,
                                                                        make_staff, community, db_session,
                                                                        text):
    printer, court = printer_and_court
    swings = wishes.create_wish(db_session, people["o_li"], title="儿童秋千")
    wish_review.accept(db_session, swings.id, make_staff("committee", community=community), note="下月安装")
    gone = wishes.create_wish(db_session, people["o_li"], title="露天电影")
    wish_review.reject(db_session, gone.id, make_staff("committee", username="c2", community=community),
                       reason="场地不够")
    db_session.commit()
    listed = wx.say("o_zhang", text)
    assert "1. 「自助打印机」2人支持，征集支持中" in listed
    assert "「篮球场」1人支持，征集支持中（您已支持）" in listed  # 张奶奶's own wish
    assert "「儿童秋千」1人支持，已采纳" in listed
    assert listed.index("「自助打印机」") < listed.index("「篮球场」")
    assert "露天电影" not in listed  # a closed wish is not on the list
    assert "回复序号" in listed and "支持+名称" in listed


def test_an_empty_list_says_so_and_how_to_make_a_wish(wx, people):
    assert "还没有正在征集的心愿" in wx.say("o_li", "有哪些心愿")


def test_the_list_asks_an_unbound_user_to_bind(wx, people):
    assert "先绑定房号" in wx.say("o_stranger", "有哪些心愿")


def test_my_own_wishes_are_not_the_list(wx, people, printer_and_court):
    mine = wx.say("o_li", "我支持的心愿有哪些")
    assert "您关注的心愿" in mine and "「自助打印机」" in mine and "「篮球场」" not in mine


# ---- support by number ---------------------------------------------------------------------------

def test_支持2_right_after_the_list_supports_the_second_wish(wx, people, printer_and_court):
    printer, court = printer_and_court
    wx.say("o_li", "有哪些心愿")
    done = wx.say("o_li", "支持2")
    assert "已为您支持心愿「篮球场」" in done and "目前2人支持" in done and "还差18人" in done
    assert _supporters(_wish("篮球场")) == {people["o_zhang"].id, people["o_li"].id}
    assert db.session.scalar(select(WishFollower.id).where(WishFollower.wish_id == court.id,
                                                           WishFollower.resident_id == people["o_li"].id))


def test_a_bare_number_right_after_the_list_supports_that_wish(wx, people, printer_and_court):
    wx.say("o_li", "心愿榜")
    assert "已为您支持心愿「篮球场」" in wx.say("o_li", "2")


def test_支持2_without_a_list_asks_to_see_the_list_first(wx, people, printer_and_court):
    assert "有哪些心愿" in wx.say("o_li", "支持2")
    assert _wish("篮球场").supports_count == 1


def test_a_number_long_after_the_list_no_longer_names_a_wish(wx, people, printer_and_court, clock):
    wx.say("o_li", "有哪些心愿")
    clock.shift(timedelta(minutes=LIST_MINUTES + 1))
    assert "已为您支持" not in wx.say("o_li", "支持2")
    assert _wish("篮球场").supports_count == 1


def test_a_number_beyond_the_list_is_said_to_be(wx, people, printer_and_court):
    wx.say("o_li", "有哪些心愿")
    assert "只有2个心愿" in wx.say("o_li", "支持5")


# ---- support by name -----------------------------------------------------------------------------

def test_支持打印机那个_supports_the_printer_wish(wx, people, printer_and_court):
    done = wx.say("o_zhang", "支持打印机那个")
    assert "已为您支持心愿「自助打印机」" in done and "目前3人支持" in done
    assert people["o_zhang"].id in _supporters(_wish("自助打印机"))
    assert _flow("o_zhang") is None


def test_我也想要自助打印机_supports_the_existing_wish_instead_of_drafting_one(wx, people, printer_and_court):
    done = wx.say("o_zhang", "我也想要自助打印机")
    assert "已为您支持心愿「自助打印机」" in done and "目前3人支持" in done
    assert len(db.session.scalars(select(Wish)).all()) == 2  # no new wish, no draft waiting
    assert _flow("o_zhang") is None


@pytest.mark.parametrize("text", ["我也支持篮球场", "给篮球场投一票", "支持一下篮球场吧"])
def test_other_ways_of_supporting_by_name(wx, people, printer_and_court, text):
    assert "已为您支持心愿「篮球场」" in wx.say("o_li", text)


def test_supporting_again_is_answered_politely_and_counts_nothing(wx, people, printer_and_court):
    again = wx.say("o_li", "支持自助打印机")
    assert "您之前已经支持过心愿「自助打印机」了" in again and "目前2人支持" in again
    own = wx.say("o_wang", "支持打印机那个")
    assert "是您自己提的" in own
    assert _wish("自助打印机").supports_count == 2


def test_a_support_through_the_mini_program_counts_as_the_same_one(wx, client, login, people, printer_and_court):
    printer, court = printer_and_court
    headers = login("wang")
    assert client.post(f"/api/v1/wishes/{court.id}/support", headers=headers).status_code == 200
    assert "之前已经支持过心愿「篮球场」" in wx.say("o_wang", "支持篮球场")
    assert _wish("篮球场").supports_count == 2


def test_an_ambiguous_name_asks_which_with_numbers(wx, people, printer_and_court, db_session):
    wishes.create_wish(db_session, people["o_li"], title="彩色打印机")
    db_session.commit()
    asked = wx.say("o_zhang", "支持打印机那个")
    assert "您想支持哪一个" in asked and "1. 「自助打印机」" in asked and "2. 「彩色打印机」" in asked
    assert _wish("自助打印机").supports_count == 2 and _wish("彩色打印机").supports_count == 1
    assert "已为您支持心愿「彩色打印机」" in wx.say("o_zhang", "2")
    assert _supporters(_wish("彩色打印机")) == {people["o_li"].id, people["o_zhang"].id}


def test_an_exact_title_is_not_ambiguous(wx, people, printer_and_court, db_session):
    wishes.create_wish(db_session, people["o_li"], title="彩色打印机")
    db_session.commit()
    assert "已为您支持心愿「自助打印机」" in wx.say("o_zhang", "支持自助打印机")


def test_a_name_no_wish_has_is_said_so(wx, people, printer_and_court):
    reply = wx.say("o_li", "支持游泳池那个")
    assert "没有找到" in reply and "游泳池" in reply
    assert db.session.scalar(select(WishSupport.id).where(WishSupport.resident_id == people["o_li"].id,
                                                          WishSupport.wish_id != printer_and_court[0].id)) is None


def test_supporting_asks_an_unbound_user_to_bind(wx, people, printer_and_court):
    assert "先绑定房号" in wx.say("o_stranger", "支持打印机那个")
