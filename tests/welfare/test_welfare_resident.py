"""The resident's side: 我很好 and away / hospital in the chat (watched residents only), and the mini-program:
one-tap check-in, own status, the family setting away mode."""

from __future__ import annotations

from datetime import timedelta

from conftest import hours

from app.core.clock import local_now, utcnow
from app.core.db import db
from app.welfare import chat as welfare_chat
from app.welfare import watch as watching


def test_i_am_fine_in_the_chat_resets_the_timer(world, wx, clock):
    clock.shift(hours(50))
    assert wx.say("o_wang", "我很好") == welfare_chat.CHECKED_IN
    watch = world.reload()
    assert watch.last_activity_kind == "checkin"
    assert abs(watch.due_at - (utcnow() + hours(72))) < timedelta(minutes=1)


def test_any_message_from_a_watched_resident_is_a_sign_of_life(world, wx, clock):
    clock.shift(hours(10))
    reply = wx.say("o_wang", "物业电话多少")
    assert reply != welfare_chat.CHECKED_IN
    before = world.reload().last_activity_at
    world.sweep()  # the turn does not look the watch up; the sweep reads when the resident last wrote
    watch = world.reload()
    assert watch.last_activity_kind == "chat" and watch.last_activity_at > before
    assert abs(watch.due_at - (utcnow() + hours(72))) < timedelta(minutes=2)
    world.sweep()  # the same message does not count twice
    assert world.reload().last_activity_at == watch.last_activity_at


def test_a_message_closes_a_check_nobody_has_taken_yet(world, wx, clock):
    clock.shift(hours(73))
    world.sweep()
    assert watching.open_check(db.session, world.watch.id) is not None
    clock.shift(timedelta(minutes=10))
    wx.say("o_wang", "电梯又坏了吗")
    world.sweep()
    db.session.expire_all()
    assert watching.open_check(db.session, world.watch.id) is None


def test_a_resident_who_is_not_watched_is_left_alone(world, wx, make_resident, db_session):
    make_resident("5", "1", "101", name="周大爷", openid="o_zhou", community=world.resident.household.unit.building
                  .community)
    db_session.commit()
    assert wx.say("o_zhou", "我很好") != welfare_chat.CHECKED_IN
    assert "外出" not in wx.say("o_zhou", "我这周去女儿家住")


def test_away_and_hospital_in_the_chat_end_by_themselves(world, wx, clock):
    reply = wx.say("o_wang", "我这周去女儿家住")
    watch = world.reload()
    assert watch.mode == "away" and "外出" in reply and "我回来了" in reply
    sunday = local_now().date() + timedelta(days=6 - local_now().weekday())
    assert f"{sunday.month}月{sunday.day}日" in reply
    assert "本人" in watch.mode_set_by
    assert "欢迎回家" in wx.say("o_wang", "我回来了")
    assert world.reload().mode == "normal"
    reply = wx.say("o_wang", "我住院了")
    watch = world.reload()
    assert watch.mode == "hospital" and "早日康复" in reply and "先按一周" in reply
    clock.move_to(watch.mode_until + timedelta(minutes=1))
    world.sweep()
    assert world.reload().mode == "normal"


def test_mini_program_check_in_status_and_family_away_mode(world, client, login, clock):
    clock.shift(hours(20))
    headers = login("wang")
    me = client.get("/api/v1/welfare/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["me"]["mode"] == "normal" and me.get_json()["family"] == []
    out = client.post("/api/v1/welfare/checkin", headers=headers)
    assert out.status_code == 200
    assert world.reload().last_activity_kind == "checkin"
    daughter = login("daughter")
    mine = client.get("/api/v1/welfare/me", headers=daughter).get_json()
    assert mine["me"] is None and [f["name"] for f in mine["family"]] == ["王秀英"]
    until = (local_now().date() + timedelta(days=10)).isoformat()
    response = client.post("/api/v1/welfare/mode", headers=daughter,
                           json={"mode": "hospital", "until": until, "watch_id": world.watch.id})
    assert response.status_code == 200, response.get_json()
    watch = world.reload()
    assert watch.mode == "hospital" and "家属" in watch.mode_set_by
    assert client.post("/api/v1/welfare/checkin", headers=daughter).get_json()["error"]["code"] == "not_watched"
    bad = client.post("/api/v1/welfare/mode", headers=daughter, json={"mode": "away", "until": "明天",
                                                                       "watch_id": world.watch.id})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_until"
    other = client.post("/api/v1/welfare/mode", headers=daughter, json={"mode": "away", "until": until,
                                                                         "watch_id": world.watch.id + 99})
    assert other.status_code == 404
    assert client.post("/api/v1/welfare/mode", headers=daughter, json={"mode": "sleep"}).status_code == 422
