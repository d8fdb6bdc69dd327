"""The live feed: a new alarm and a new escalation reach an open stream within seconds, a reconnecting screen
gets what it missed (Last-Event-ID), a refreshed snapshot is announced, and a stream holds no database
connection between polls."""

from __future__ import annotations

import json
import re
import time

import pytest
from sqlalchemy import event

from app.chat.models import Conversation
from app.cockpit import snapshots, tokens
from app.cockpit.live import Cursor
from app.core.clock import utcnow
from app.core.db import db
from app.devices.alarms import raise_alarm
from app.escalations.escalations import escalate


@pytest.fixture
def screen(app, db_session, make_resident, make_staff, monkeypatch):
    """A community with one resident, its snapshot and a wall link; streams poll every 50 ms."""
    monkeypatch.setitem(app.config, "COCKPIT_STREAM_POLL_SECONDS", 0.05)
    monkeypatch.setitem(app.config, "COCKPIT_STREAM_SECONDS", 20)
    resident = make_resident("3", "1", "101", name="赵测试", openid="o_ck_live")
    staff = make_staff("admin")
    snapshots.refresh(db_session, resident.community_id, utcnow())
    _row, token = tokens.create(db_session, staff, "大厅")
    db_session.commit()
    # ids, not rows: the stream's view closes the request's session (in tests, this one)
    return {"community_id": resident.community_id, "resident_id": resident.id, "token": token,
            "client": app.test_client()}


class Reader:
    """Reads server-sent events from a streamed test response, skipping heartbeats."""

    def __init__(self, response) -> None:
        self.chunks, self.buffer = iter(response.response), ""

    def next(self) -> tuple[str, dict, str | None]:
        while "\n\n" not in self.buffer:
            chunk = next(self.chunks)
            self.buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        block, self.buffer = self.buffer.split("\n\n", 1)
        if block.startswith(":"):
            return self.next()
        ident = re.search(r"^id: (.+)$", block, re.M)
        return (re.search(r"^event: (.+)$", block, re.M).group(1),
                json.loads(re.search(r"^data: (.+)$", block, re.M).group(1)), ident and ident.group(1))


def _alarm(session, community_id, location="3幢1单元电梯"):
    alarm = raise_alarm(session, community_id=community_id, type="ebike_in_lift", severity="major", now=utcnow(),
                        location=location)
    alarm_id = alarm.id
    session.commit()
    return alarm_id


def test_a_new_alarm_and_a_new_escalation_reach_the_wall_within_seconds(screen, db_session):
    response = screen["client"].get(f"/cockpit/wall/{screen['token']}/stream", buffered=False)
    reader = Reader(response)
    assert reader.next()[0] == "hello"
    started = time.monotonic()
    alarm_id = _alarm(db_session, screen["community_id"])
    kind, data, ident = reader.next()
    assert kind == "alarm" and data["id"] == alarm_id and data["title"] == "重要告警 · 电瓶车进电梯"
    assert data["where"] == "3幢1单元电梯" and data["urgent"] is True
    assert Cursor.parse(ident).alarm == alarm_id
    assert time.monotonic() - started < 5

    conversation = Conversation(channel="oa", openid="o_ck_live", resident_id=screen["resident_id"])
    db_session.add(conversation)
    db_session.flush()
    escalation = escalate(db_session, conversation, trigger="safety", text="赵测试说家里有人摔倒了", now=utcnow(),
                          urgent=True)
    escalation_id = escalation.id
    db_session.commit()
    kind, data, _ident = reader.next()
    assert kind == "escalation" and data["id"] == escalation_id and data["urgent"] is True
    assert data["where"] == "3幢" and "赵测试" not in json.dumps(data, ensure_ascii=False)
    assert time.monotonic() - started < 10
    response.close()


def test_a_screen_that_reconnects_gets_what_it_missed_and_hears_of_new_figures(screen, db_session):
    client, token = screen["client"], screen["token"]
    first = Reader(client.get(f"/cockpit/wall/{token}/stream", buffered=False))
    _kind, _data, ident = first.next()
    missed = _alarm(db_session, screen["community_id"], "东门")  # while the screen was away
    again = Reader(client.get(f"/cockpit/wall/{token}/stream", headers={"Last-Event-ID": ident}, buffered=False))
    assert again.next()[0] == "hello"
    kind, data, _ident = again.next()
    assert kind == "alarm" and data["id"] == missed
    snapshots.refresh(db_session, screen["community_id"], utcnow())
    db_session.commit()
    assert again.next()[0] == "figures"


def test_a_stream_holds_no_connection_between_polls(app, screen, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "COCKPIT_STREAM_POLL_SECONDS", 0.3)
    db_session.commit()
    db_session.close()
    held = {"n": 0}

    def out(*_args):
        held["n"] += 1

    def back(*_args):
        held["n"] -= 1

    event.listen(db.engine.pool, "checkout", out)
    event.listen(db.engine.pool, "checkin", back)
    try:
        reader = Reader(screen["client"].get(f"/cockpit/wall/{screen['token']}/stream", buffered=False))
        reader.next()  # hello: the request's own session is closed by now
        assert held["n"] == 0
        time.sleep(0.1)  # between two polls
        assert held["n"] == 0
    finally:
        event.remove(db.engine.pool, "checkout", out)
        event.remove(db.engine.pool, "checkin", back)


def test_the_console_stream_needs_a_signed_in_viewer(client):
    response = client.get("/console/cockpit/stream")
    assert response.status_code in (302, 401)
