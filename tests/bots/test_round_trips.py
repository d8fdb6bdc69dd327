"""What one common chat turn costs the database, pinned so it cannot creep back (issue: the cost of a turn).

Counted as PostgreSQL round trips: BEGIN, each statement, COMMIT. A common turn reads once (the
conversation with the resident, household, unit and building in one statement), writes the message
once and commits; the conversation row is written only when its state changes. A feature's own read
(parking zones, a resident's tickets) adds its statements, and no more."""

from __future__ import annotations

from datetime import time, timedelta

from clinic_world import build_clinic
from round_trips import counting

from app.clinic.slots import local_to_utc
from app.core.clock import local_now
from app.core.db import db

READ, WRITE = "SELECT conversation.id", "INSERT INTO message"


def _turn(wx, openid: str, text: str):
    db.session.remove()  # each request has a session of its own, as under gunicorn
    with counting(db.engine) as trips:
        reply = wx.say(openid, text)
    return reply, trips


def _bound(make_resident, db_session, wx, openid: str = "o_turn") -> None:
    make_resident("30", "2", "1201", openid=openid)
    db_session.commit()
    wx.say(openid, "你好")  # the first message creates the conversation (an insert, once per person)


def test_a_greeting_is_one_read_one_write_and_the_commit(wx, app, make_resident, db_session):
    _bound(make_resident, db_session, wx)
    reply, trips = _turn(wx, "o_turn", "你好")
    assert "王阿姨" in reply
    assert trips.count == 4, trips
    assert trips.sent[0] == "BEGIN" and trips.sent[1].startswith(READ)
    assert trips.sent[2].startswith(WRITE) and trips.sent[3] == "COMMIT"
    assert "JOIN household" in trips.sent[1] and "JOIN building" in trips.sent[1]  # the address comes along


def test_a_stranger_costs_no_more_than_a_resident(wx, app):
    wx.say("o_stranger", "你好")
    reply, trips = _turn(wx, "o_stranger", "你好")
    assert "绑定" in reply
    assert trips.count == 4, trips


def test_a_parking_question_adds_only_its_own_read(wx, app, make_resident, db_session):
    _bound(make_resident, db_session, wx)
    reply, trips = _turn(wx, "o_turn", "还有空车位吗")
    assert reply
    assert trips.count == 5, trips
    assert [s for s in trips.sent if s.startswith("SELECT")][1].startswith("SELECT parking_zone")


def test_a_progress_question_and_a_repair_report(wx, app, make_resident, db_session):
    _bound(make_resident, db_session, wx)
    _reply, progress = _turn(wx, "o_turn", "我报修的修好了没")
    assert progress.count <= 6, progress  # the resident's tickets and wishes
    reply, repair = _turn(wx, "o_turn", "3号楼电梯坏了")
    assert "报修" in reply
    assert repair.count <= 6, repair  # the draft is conversation state: one UPDATE
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in progress.sent + repair.sent)


def test_the_first_message_creates_the_conversation_without_a_savepoint(wx, app):
    _reply, trips = _turn(wx, "o_first", "你好")
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in trips.sent), trips
    assert sum(s.startswith("INSERT INTO conversation") for s in trips.sent) == 1


def test_a_booking_confirmed_in_chat_reads_its_slot_once(wx, app, make_resident, db_session):
    """The slot comes with its service, doctor and room in one statement, and the reply names them
    without reading them again."""
    resident = make_resident("30", "2", "1201", openid="o_turn")
    clinic = build_clinic(db_session, resident.community_id)
    clinic.slot(db_session, "blood_pressure", local_to_utc(local_now().date() + timedelta(days=1), time(9)))
    db_session.commit()
    wx.say("o_turn", "明天上午想测个血压")
    assert "请确认预约" in wx.say("o_turn", "1")
    reply, trips = _turn(wx, "o_turn", "确认")
    assert "预约成功" in reply and "陈文医生" in reply and "卫生站1诊室" in reply
    sent = trips.sent[:trips.sent.index("COMMIT") + 1]  # the turn's own; the tests' inline relay comes after
    for table in ("clinic_provider", "clinic_place", "clinic_service"):
        assert not any(s.startswith(f"SELECT {table}.") for s in sent), trips  # joined, not read apart
    assert sum(s.startswith("SELECT clinic_slot.") for s in sent) == 1, trips
    # 16 round trips on PostgreSQL (the savepoint and its release are each noted twice: 18 lines); SQLite
    # writes the two reminder jobs row by row
    assert len(sent) == (18 if db.engine.dialect.name == "postgresql" else 19), trips
