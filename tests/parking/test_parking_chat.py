"""Parking availability in chat through /wechat with signed XML: a named building, the resident's own
building with the nearest ones that have space, stale counts, and the cache that answers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from parking_setup import zone_for

from app.core.clock import utcnow
from app.core.redis_conn import get_redis
from app.parking import parking


@pytest.fixture
def lots(db_session, make_household):
    """Buildings 1, 28, 29, 30, 31, 32 in walking order; 30 is full, 29 and 31 have space, 1 is far."""
    now = utcnow()
    made = {
        "1": zone_for(db_session, make_household, "1", fixed_occupied=2, at=now),
        "28": zone_for(db_session, make_household, "28", fixed_occupied=10, temporary_occupied=5, at=now),
        "29": zone_for(db_session, make_household, "29", fixed_occupied=7, temporary_occupied=5, at=now),
        "30": zone_for(db_session, make_household, "30", fixed=10, temporary=5, fixed_occupied=10,
                       temporary_occupied=5, at=now - timedelta(minutes=3)),
        "31": zone_for(db_session, make_household, "31", fixed_occupied=10, temporary_occupied=2, at=now),
        "32": zone_for(db_session, make_household, "32", fixed_occupied=9, temporary_occupied=5, at=now),
    }
    db_session.commit()
    return made


@pytest.fixture
def wang(make_resident, db_session, lots):
    resident = make_resident("30", "2", "1201", name="王阿姨", phone="13900001111", openid="o_wang")
    db_session.commit()
    return resident


def test_a_named_building_gets_both_free_counts_and_the_age(wx, wang, lots, db_session):
    lots["30"].fixed_occupied, lots["30"].temporary_occupied = 9, 4
    db_session.commit()
    reply = wx.say("o_wang", "30幢还有车位吗")
    assert reply == "30幢：固定车位余1，临时车位余1（3分钟前更新）"


def test_a_full_named_building_also_names_the_nearest_with_space(wx, wang, lots):
    reply = wx.say("o_wang", "29幢还有车位吗")
    assert reply.startswith("29幢：固定车位余3，临时车位余0")
    assert "30幢" not in reply  # 29 has space: no need for neighbours


def test_no_building_named_gives_the_own_building_then_the_nearest_with_space(wx, wang):
    reply = wx.say("o_wang", "还有车位吗")
    lines = reply.splitlines()
    assert lines[0] == "30幢：固定车位余0，临时车位余0（3分钟前更新）"
    assert lines[1] == "附近有空位的："
    # 31 and 29 are next door, 32 two away; 28 is full and 1 is far
    assert [line.split("：")[0] for line in lines[2:]] == ["29幢", "31幢", "32幢"]
    assert "31幢：固定车位余0，临时车位余3（刚刚更新）" in lines


def test_a_stale_count_is_said_to_be_stale_and_never_shown(wx, wang, lots, db_session):
    lots["30"].fixed_occupied, lots["30"].last_event_at = 3, utcnow() - timedelta(minutes=11)
    lots["29"].last_event_at = utcnow() - timedelta(hours=2)
    db_session.commit()
    reply = wx.say("o_wang", "30幢还有车位吗")
    assert "已超过10分钟没有更新" in reply and "无法提供准确余位" in reply
    assert "余7" not in reply and "固定车位余" not in reply.splitlines()[0]
    nearby = wx.say("o_wang", "还有车位吗")
    assert "29幢" not in nearby  # its count is two hours old: not offered as having space
    assert nearby.splitlines()[0].startswith("30幢：车位数据已超过10分钟没有更新")


def test_the_stale_limit_comes_from_config(wx, wang, lots, db_session, app, monkeypatch):
    lots["30"].fixed_occupied, lots["30"].last_event_at = 4, utcnow() - timedelta(minutes=11)
    db_session.commit()
    monkeypatch.setitem(app.config, "PARKING_STALE_MINUTES", 30)
    assert wx.say("o_wang", "30幢还有车位吗") == "30幢：固定车位余6，临时车位余0（11分钟前更新）"


def test_answers_come_from_the_cache_which_is_rebuilt_when_missing(wx, wang, lots, db_session, app):
    conn = get_redis(app)
    key = parking.CACHE_KEY.format(community_id=wang.community_id)
    assert not conn.exists(key)
    wx.say("o_wang", "30幢还有车位吗")
    cached = json.loads(conn.hget(key, str(lots["30"].id)))
    assert (cached["ff"], cached["tf"], cached["building"]) == (0, 0, "30")
    # the cache answers: a change written behind its back is not seen until the cache is updated
    lots["30"].fixed_occupied = 2
    db_session.commit()
    assert "固定车位余0" in wx.say("o_wang", "30幢还有车位吗")
    parking.cache_zone(conn, lots["30"])
    assert "固定车位余8" in wx.say("o_wang", "30幢还有车位吗")


def test_an_unknown_building(wx, wang):
    reply = wx.say("o_wang", "99幢还有车位吗")
    assert reply.startswith("99幢没有登记停车区域")


def test_an_unbound_user_in_a_one_community_deployment_sees_buildings_with_space(wx, lots):
    reply = wx.say("o_stranger", "还有车位吗")
    assert reply.startswith("目前有空位的：") and "1幢：固定车位余8" in reply and "30幢" not in reply


def _north_lot(db_session, lots, *, occupied: int, at):
    community_id = lots["1"].community_id
    zone = parking.create_zone(db_session, community_id=community_id, code="north-lot", name="北门停车场",
                               fixed_capacity=0, temporary_capacity=30)
    zone.temporary_occupied, zone.last_event_at = occupied, at
    db_session.commit()
    return zone


@pytest.mark.parametrize("text", ["北门停车场满了没", "北门还有车位吗"])
def test_a_named_lot_is_answered_for_itself_not_for_the_residents_building(wx, wang, lots, db_session, text):
    _north_lot(db_session, lots, occupied=26, at=utcnow())
    reply = wx.say("o_wang", text)
    assert reply.splitlines()[0] == "北门停车场：固定车位余0，临时车位余4（刚刚更新）"
    assert "30幢" not in reply


def test_with_every_count_stale_the_bot_never_says_there_is_no_space(wx, wang, lots, db_session):
    old = utcnow() - timedelta(hours=1)
    for zone in lots.values():
        zone.last_event_at = old
    db_session.commit()
    reply = wx.say("o_wang", "还有车位吗")
    assert "没有空车位" not in reply
    assert "暂时没有更新，无法确认是否有空位" in reply


def test_full_neighbours_with_some_stale_say_both(wx, wang, lots, db_session):
    for number in ("1", "29", "31", "32"):
        lots[number].fixed_occupied, lots[number].temporary_occupied = 10, 5
    lots["32"].last_event_at = utcnow() - timedelta(hours=1)
    db_session.commit()
    reply = wx.say("o_wang", "还有车位吗")
    assert "按最新数据，附近楼栋暂时没有空车位" in reply and "1处车位数据未及时更新" in reply


def test_the_demo_camera_keeps_the_demo_counts_current(app, db_session, make_resident, clock):
    from sqlalchemy import select

    from app.community.models import Community
    from app.parking.demo import feed_demo_counts, seed_parking

    for number in ("1", "2", "30"):
        make_resident(number, "1", "101", openid=f"o_feed_{number}")
    community = db_session.scalar(select(Community))
    assert feed_demo_counts(db_session) == []  # no demo camera, nothing happens (production)
    seed_parking(db_session, community)
    db_session.commit()
    clock.shift(timedelta(minutes=30))  # the seeded counts are stale by now
    assert all(a.stale for a in parking.availability(db_session, None, community.id))
    now = utcnow()
    updated = feed_demo_counts(db_session, now=now)
    db_session.commit()
    found = parking.availability(db_session, None, community.id)
    assert len(updated) == len(found) and not any(a.stale for a in found)
    assert feed_demo_counts(db_session, now=now) == []  # the same report again: duplicates change nothing
