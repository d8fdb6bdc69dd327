"""Issue 15, point 9, through /wechat: the 支持/新建 prompt shown when a new wish resembles open ones.
支持 and 新建 still work; 支持2 and 我也支持X support that wish; a different wish starts that wish;
anything else is re-asked once with the choices, then the draft is let go."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.chat.models import Conversation
from app.core.db import db
from app.wishes import catalogue as wish_catalogue
from app.wishes import wishes
from app.wishes.models import Wish, WishSupport


@pytest.fixture
def people(make_resident, community, db_session):
    """王阿姨 (3幢), 李叔叔 and 张奶奶 (5幢), one community."""
    homes = (("3", "2", "1201", "王阿姨", "o_wang"), ("5", "1", "301", "李叔叔", "o_li"),
             ("5", "1", "302", "张奶奶", "o_zhang"))
    residents = {openid: make_resident(b, u, r, name=n, openid=openid, community=community)
                 for b, u, r, n, openid in homes}
    db_session.commit()
    return residents


@pytest.fixture
def printer(people, db_session) -> Wish:
    """王阿姨's 自助打印机, collecting with 1 support."""
    wish = wishes.create_wish(db_session, people["o_wang"], title="自助打印机")
    db_session.commit()
    return wish


def _titles() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Wish.title).order_by(Wish.id)))


def _supports(title: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Wish.supports_count).where(Wish.title == title))


def _dialog(openid: str) -> dict:
    db.session.expire_all()
    return db.session.scalar(select(Conversation.dialog).where(Conversation.openid == openid)) or {}


def _offered(wx, openid: str = "o_li") -> str:
    offered = wx.say(openid, "能不能放一台打印机")
    assert "邻居已经提过类似的心愿" in offered and "「自助打印机」" in offered
    return offered


def test_支持_in_the_prompt_supports_the_offered_wish(wx, people, printer):
    _offered(wx)
    assert "已为您支持心愿「自助打印机」" in wx.say("o_li", "支持")
    assert _supports("自助打印机") == 2 and _titles() == ["自助打印机"]
    assert _dialog("o_li").get("flow") is None


def test_新建_in_the_prompt_still_drafts_the_resident_own_wish(wx, people, printer):
    _offered(wx)
    assert "确认" in wx.say("o_li", "新建")
    wx.say("o_li", "确认")
    assert len(_titles()) == 2


def test_支持2_in_the_prompt_supports_the_second_wish_offered(wx, people, printer, db_session):
    item = wish_catalogue.match_item(db_session, printer.community_id, "自助打印机")
    wishes.create_wish(db_session, people["o_zhang"], title="彩色打印机", item_id=item.id)
    db_session.commit()
    offered = wx.say("o_li", "希望装个打印机")
    assert "1. 「自助打印机」" in offered and "2. 「彩色打印机」" in offered
    assert "已为您支持心愿「彩色打印机」" in wx.say("o_li", "支持2")
    assert (_supports("自助打印机"), _supports("彩色打印机")) == (1, 2)


def test_我也支持X_in_the_prompt_supports_X(wx, people, printer, db_session):
    wishes.create_wish(db_session, people["o_zhang"], title="篮球场")
    db_session.commit()
    _offered(wx)
    done = wx.say("o_li", "我也支持篮球场")
    assert "已为您支持心愿「篮球场」" in done
    assert (_supports("自助打印机"), _supports("篮球场")) == (1, 2) and len(_titles()) == 2
    assert _dialog("o_li").get("flow") is None


def test_我也想要_the_offered_wish_in_the_prompt_supports_it(wx, people, printer):
    _offered(wx)
    assert "已为您支持心愿「自助打印机」" in wx.say("o_li", "我也想要打印机")


def test_a_name_no_wish_has_in_the_prompt_says_so_and_shows_the_choices_again(wx, people, printer):
    _offered(wx)
    reply = wx.say("o_li", "支持游泳池那个")
    assert "没有找到" in reply and "回复“支持”" in reply
    assert _dialog("o_li").get("flow") == "wish"


def test_a_different_wish_in_the_prompt_starts_that_wish(wx, people, printer):
    _offered(wx)
    asked = wx.say("o_li", "那我想要个篮球场")
    assert "心愿：篮球场" in asked and "确认" in asked
    done = wx.say("o_li", "确认")
    assert "心愿「篮球场」已提交" in done
    assert _titles() == ["自助打印机", "篮球场"] and _supports("自助打印机") == 1
    li_supports = set(db.session.scalars(select(WishSupport.wish_id).where(
        WishSupport.resident_id == people["o_li"].id)))
    assert len(li_supports) == 1  # only the new wish, not the printer


def test_a_different_wish_that_neighbours_also_made_is_offered_in_turn(wx, people, printer, db_session):
    wishes.create_wish(db_session, people["o_zhang"], title="篮球场")
    db_session.commit()
    _offered(wx)
    offered = wx.say("o_li", "还是希望建个篮球场吧")
    assert "「篮球场」" in offered and "邻居已经提过类似的心愿" in offered and "自助打印机" not in offered
    assert "已为您支持心愿「篮球场」" in wx.say("o_li", "支持")


def test_anything_else_in_the_prompt_is_re_asked_once_with_the_choices_then_let_go(wx, people, printer):
    _offered(wx)
    again = wx.say("o_li", "嗯让我再想想")
    assert "没看明白" in again and "回复“支持”" in again and "回复“新建”" in again
    let_go = wx.say("o_li", "嗯让我再想想")
    assert "先不提交了" in let_go and "转人工" not in let_go
    assert _dialog("o_li").get("flow") is None and _titles() == ["自助打印机"] and _supports("自助打印机") == 1
