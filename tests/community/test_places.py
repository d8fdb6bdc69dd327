"""A community's named places: kept in the console, matched in a report's "where" (the longest name or alias
wins), one community's places never another's; a plain-words answer with no place in it is asked again."""

from __future__ import annotations

import pytest
from console_forms import login, post
from sqlalchemy import select

from app.community import places
from app.community.models import Place
from app.core.db import db
from app.core.errors import AppError
from app.tickets.models import Ticket


@pytest.fixture
def wang(make_resident, db_session):
    resident = make_resident("30", "2", "1201", name="王阿姨", openid="o_wang")
    community_id = resident.community_id
    places.add_place(db_session, community_id, name="北门", kind="gate", aliases="北大门")
    places.add_place(db_session, community_id, name="北门停车场", kind="parking", aliases="北边停车场")
    places.add_place(db_session, community_id, name="中心花园", kind="garden", aliases="中央花园,小花园")
    db_session.commit()
    return resident


def _tickets() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def test_the_longest_name_or_alias_wins(db_session, wang):
    rows = places.named(db_session, wang.community_id)
    assert places.find(rows, "北门停车场的路灯坏了").name == "北门停车场"
    assert places.find(rows, "北大门的道闸抬不起来").name == "北门"
    assert places.find(rows, "中央花园的长椅断了").name == "中心花园"
    assert places.find(rows, "楼下花坛") is None


def test_names_are_checked(db_session, wang):
    for name, code in (("门", "invalid_place_name"), ("北门", "place_exists")):
        with pytest.raises(AppError) as err:
            places.add_place(db_session, wang.community_id, name=name)
        assert err.value.code == code


def test_a_named_place_in_the_report_is_filed_by_its_proper_name(wx, wang):
    confirm = wx.say("o_wang", "中央花园的长椅断了")
    assert "地点：中心花园" in confirm
    wx.say("o_wang", "确认")
    [ticket] = _tickets()
    assert ticket.place == "中心花园"


def test_a_named_place_answers_where(wx, wang):
    assert "具体在哪里" in wx.say("o_wang", "有个长椅坏了")
    confirm = wx.say("o_wang", "北边停车场那里")
    assert "地点：北门停车场" in confirm


def test_an_answer_with_no_place_in_it_is_asked_again(wx, wang):
    assert "具体在哪里" in wx.say("o_wang", "有个椅子坏了")
    again = wx.say("o_wang", "我也说不好")
    assert "具体在哪里" in again and _tickets() == []
    confirm = wx.say("o_wang", "篮球场旁边")
    assert "地点：篮球场旁边" in confirm  # a place in plain words is still taken


def test_another_communitys_places_are_not_matched(wx, wang, make_resident, db_session, make_community):
    other = make_community("和睦新村")
    places.add_place(db_session, other.id, name="荷花池", kind="garden")
    db_session.commit()
    assert places.find(places.named(db_session, wang.community_id), "荷花池边的栏杆松了") is None


def test_staff_add_try_and_hide_a_place(client, make_staff, wang, db_session):
    staff = make_staff("property", password="right-password", community=wang.household.unit.building.community)
    db_session.commit()
    assert login(client, staff.username, "right-password").status_code == 303
    assert post(client, "/console/places", {"name": "儿童乐园", "aliases": "滑滑梯那里，游乐区", "kind": "facility"}
                ).status_code == 303
    page = client.get("/console/places?try=滑滑梯那里坏了").get_data(as_text=True)
    assert "儿童乐园" in page and "<strong>儿童乐园</strong>" in page
    duplicate = post(client, "/console/places", {"name": "儿童乐园"}, follow_redirects=True).get_data(as_text=True)
    assert "已经有名为" in duplicate
    db.session.expire_all()
    place = db.session.scalar(select(Place).where(Place.name == "儿童乐园"))
    assert place.aliases == ["滑滑梯那里", "游乐区"]
    assert post(client, f"/console/places/{place.id}/active", {"active": "0"}).status_code == 303
    db.session.expire_all()
    assert not db.session.get(Place, place.id).active
    assert places.find(places.named(db.session, wang.community_id), "滑滑梯那里坏了") is None


@pytest.mark.parametrize("role", ["repair_worker", "doctor", "committee"])
def test_other_roles_cannot_edit_places(client, make_staff, wang, db_session, role):
    staff = make_staff(role, password="right-password", community=wang.household.unit.building.community)
    db_session.commit()
    login(client, staff.username, "right-password")
    assert client.get("/console/places").status_code == 403
    assert post(client, "/console/places", {"name": "儿童乐园"}).status_code == 403
