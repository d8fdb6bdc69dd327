"""/wechat while the database is down: the message is journaled on disk (never a 200 for a message nobody
kept), handled when the database is back, its reply sent as a customer-service message, once.

The outage is injected below our code: every statement on the engine raises the OperationalError a
lost connection raises (tests/bots/test_outage.py stops a real PostgreSQL and Redis instead)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from wechat_post import text_xml

from app.chat.models import Message, SeenNonce
from app.core.clock import local_now
from app.core.db import db
from bots.drain import JOURNALED, drain, journal_for


@contextmanager
def database_down() -> Iterator[None]:
    """Every statement fails as it does when the server has gone away."""

    def refuse(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused (test outage)"))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def _inbound(msg_id: int) -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.direction == "in",
                                                         Message.wechat_msg_id == str(msg_id))))


def _sent_to(fake_wechat, openid: str) -> list[str]:
    return [m["text"]["content"] for m in fake_wechat.sent_messages("custom") if m.get("touser") == openid]


def test_a_message_during_an_outage_is_kept_then_handled_and_answered_once(wx, app, fake_wechat, run_jobs):
    xml = text_xml("o_outage", "你好", msg_id=990_000_001)
    with database_down():
        first = wx.post(xml)
        retry = wx.post(xml)  # WeChat's retry of the same message, still during the outage
    assert first.status_code == 200 and wx.reply(first)["Content"] == JOURNALED
    assert retry.status_code == 200
    journal = journal_for(app)
    assert journal.backlog() == 2
    record = json.loads(journal.entries()[0].read_text(encoding="utf-8"))
    assert record["data"]["Content"] == "你好" and record["channel"] == "oa"
    assert _inbound(990_000_001) == []
    ready = app.test_client().get("/readyz").get_json()
    assert ready["checks"]["wechat_journal"] == "ok (2 waiting to be stored)"  # serving, and saying so

    result = drain(app)
    run_jobs()  # the customer-service message is a job (run in-process on the embedded queue)
    assert (result.handled, result.duplicates, result.left) == (1, 1, 0)
    assert journal.backlog() == 0
    assert app.test_client().get("/readyz").get_json()["checks"]["wechat_journal"] == "ok"
    [stored] = _inbound(990_000_001)
    assert stored.content == "你好" and "您好" in stored.reply
    assert _sent_to(fake_wechat, "o_outage") == [stored.reply]  # the answer, as a customer-service message
    out = db.session.scalar(select(Message).where(Message.dedup_key == f"reply:{stored.id}"))
    assert out.direction == "out" and out.delivery == "sent"

    assert drain(app).handled == 0  # nothing is handled twice
    assert len(_sent_to(fake_wechat, "o_outage")) == 1


def test_a_kept_message_whose_retry_got_through_later_is_not_handled_again(wx, app, fake_wechat):
    xml = text_xml("o_retry", "你好", msg_id=990_000_002)
    with database_down():
        assert wx.reply(wx.post(xml))["Content"] == JOURNALED
    later = wx.reply(wx.post(xml))["Content"]  # the database is back before the journal drains
    assert "您好" in later
    result = drain(app)
    assert (result.handled, result.duplicates) == (0, 1)
    assert len(_inbound(990_000_002)) == 1
    assert _sent_to(fake_wechat, "o_retry") == []  # answered in the reply itself, not twice


def test_the_drain_stops_while_the_database_is_still_down_and_loses_nothing(wx, app):
    with database_down():
        for n in range(3):
            wx.post(text_xml("o_wait", f"第{n}条", msg_id=990_000_010 + n))
        result = drain(app)
    assert (result.handled, result.left) == (0, 3)
    assert journal_for(app).backlog() == 3
    assert drain(app).handled == 3
    db.session.expire_all()
    contents = db.session.scalars(select(Message.content).where(Message.direction == "in")
                                  .order_by(Message.id)).all()
    assert contents == ["第0条", "第1条", "第2条"]  # in the order they arrived


def test_the_drainer_thread_handles_the_journal_by_itself(wx, app, fake_wechat):
    import time

    from bots import drain as drain_module

    with database_down():
        wx.post(text_xml("o_thread", "你好", msg_id=990_000_020))
    drainer = drain_module.start_drainer(app)
    drainer.every = 0.1
    try:
        deadline = time.monotonic() + 15
        while journal_for(app).backlog() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:  # the thread must not drain what later tests in this process put in the journal
        drainer.stop()
        drainer.join(5)
    assert journal_for(app).backlog() == 0
    assert len(_inbound(990_000_020)) == 1


def test_an_unreadable_entry_is_set_aside_for_an_operator_not_retried_forever(app):
    journal = journal_for(app)
    journal.append({"v": 1, "channel": "oa", "received_at": local_now().isoformat(), "data": {"MsgType": ""}})
    result = drain(app)
    assert (result.set_aside, journal.backlog(), journal.failed_count()) == (1, 0, 1)
    line = app.test_client().get("/readyz").get_json()["checks"]["wechat_journal"]
    assert line == "ok (1 set aside for an operator (flask wechat-journal))"


def test_while_redis_is_down_the_replay_guard_uses_the_database(wx, app):
    from jobs_for_tests import redis_down

    params = wx.params()
    with redis_down(app):
        xml = text_xml("o_nonce", "你好", msg_id=990_000_030)
        first = wx.post(xml, params)
        again = wx.post(xml, params)  # WeChat's retry: the same query and the same body
        forged = wx.post(text_xml("o_victim", "转人工", msg_id=990_000_031), params)  # captured signature
    assert first.status_code == 200 and again.status_code == 200
    assert wx.reply(first)["Content"] == wx.reply(again)["Content"]
    assert forged.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(SeenNonce)) == 1
    assert len(_inbound(990_000_030)) == 1 and _inbound(990_000_031) == []


def test_with_redis_and_the_database_down_the_replay_check_waits_for_the_drain(wx, app):
    from jobs_for_tests import redis_down

    params = wx.params()
    with redis_down(app), database_down():
        kept = wx.post(text_xml("o_both", "你好", msg_id=990_000_040), params)
        forged = wx.post(text_xml("o_victim", "转人工", msg_id=990_000_041), params)
    assert kept.status_code == 200 and forged.status_code == 200  # neither could be checked yet
    result = drain(app)
    assert (result.handled, result.replays) == (1, 1)
    assert len(_inbound(990_000_040)) == 1 and _inbound(990_000_041) == []


def test_a_journal_that_cannot_be_written_makes_the_service_not_ready(app, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"  # the journal's folder would have to be made under a file: never possible
    blocker.write_text("")
    monkeypatch.setitem(app.config, "WECHAT_JOURNAL_DIR", str(blocker / "journal"))
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "not_ready"
    assert body["checks"]["wechat_journal"].startswith("not writable")
    assert body["checks"]["database"] == "ok"  # only the journal is wrong
