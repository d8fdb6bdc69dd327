"""The /wechat hot path's dedup: the Redis claim, the database's unique key behind it, and handler refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from wechat_post import text_xml

from app.binding.models import Binding
from app.chat.models import Message
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.outbox import enqueue
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis
from bots import dispatch, registry


def _count(model, **filters) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).filter_by(**filters))


def _claim_key(msg_id: int) -> str:
    return f"wechat:claim:oa:m:{msg_id}"


def test_a_retry_that_slips_past_the_claim_still_acts_once(wx, app, make_resident, db_session):
    """The claim has expired (or Redis lost it): the unique dedup key stops the second effect."""
    make_resident("6", "1", "601", phone="13700000006")
    db_session.commit()
    assert "房号" in wx.say("o_slip", "绑定")
    xml = text_xml("o_slip", "6-1-601 13700000006", msg_id=888_000_001)
    first = wx.reply(wx.post(xml))["Content"]
    assert "已提交绑定申请" in first
    get_redis(app).delete(_claim_key(888_000_001))
    again = wx.reply(wx.post(xml))["Content"]
    assert again == first
    assert _count(Message, direction="in", wechat_msg_id="888000001") == 1
    assert _count(Binding) == 1


def test_a_claim_left_by_a_try_that_died_is_handled_once_the_wait_is_over(wx, app, monkeypatch):
    monkeypatch.setattr(dispatch, "WAIT_FOR_FIRST_TRY", 0.3)
    get_redis(app).set(_claim_key(888_000_002), 1, ex=60)  # claimed, never stored
    reply = wx.reply(wx.post(text_xml("o_dead", "你好", msg_id=888_000_002)))["Content"]
    assert reply != dispatch.SORRY and "您好" in reply
    assert _count(Message, direction="in", wechat_msg_id="888000002") == 1


def test_a_retry_while_the_claim_is_held_is_answered_from_the_stored_reply(wx, app, monkeypatch):
    """The claim is held: the retry reads the stored reply instead of handling the message again."""
    handled = []
    real_handle = dispatch._handle

    def counting_handle(*args, **kwargs):  # a spy: counts, then runs the real handling
        handled.append(args[1].dedup_key)
        return real_handle(*args, **kwargs)

    monkeypatch.setattr(dispatch, "_handle", counting_handle)
    first = wx.say("o_wait", "你好")
    assert len(handled) == 1
    stored = db.session.scalar(select(Message).where(Message.direction == "in", Message.content == "你好"))
    get_redis(app).set(_claim_key(int(stored.wechat_msg_id)), 1, ex=60)
    monkeypatch.setattr(dispatch, "WAIT_FOR_FIRST_TRY", 5.0)
    xml = text_xml("o_wait", "你好", msg_id=int(stored.wechat_msg_id))
    assert wx.reply(wx.post(xml))["Content"] == first
    assert _count(Message, direction="in", content="你好") == 1
    assert len(handled) == 1  # the retry was answered without being handled again


@pytest.fixture
def refusing_handler():
    """A handler that writes a row and then refuses, registered for a message type WeChat never sends."""

    @registry.on_message("linli_test_refuse")
    def refuse(inbound):
        enqueue(inbound.session, "app.chat.jobs.send_text", inbound.openid, "不该发出")
        inbound.session.flush()
        raise ValidationFailed("这条消息暂时无法处理，请换个说法。")

    yield
    registry._handlers.pop("linli_test_refuse", None)


def test_a_handler_that_refuses_leaves_its_apology_and_none_of_its_writes(wx, refusing_handler):
    xml = text_xml("o_refuse", "随便", msg_id=888_000_003, msg_type="linli_test_refuse")
    reply = wx.reply(wx.post(xml))["Content"]
    assert reply == "这条消息暂时无法处理，请换个说法。"
    assert _count(OutboxJob, func="app.chat.jobs.send_text") == 0
    stored = db.session.scalar(select(Message).where(Message.wechat_msg_id == "888000003"))
    assert stored is not None and stored.reply == reply
    assert wx.reply(wx.post(xml))["Content"] == reply  # and WeChat's retry gets the same apology
