"""Pooled connections are checked only after sitting idle (app.core.db.ping_when_idle): a request on a
busy pool pays no extra round trip, and a connection the database cut while it waited is replaced
before a request sees it."""

from __future__ import annotations

import time

import pytest
from round_trips import counting
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from app.core.db import ping_when_idle

pytestmark = pytest.mark.postgres


def _engine(app, idle_seconds: float):
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds)
    return engine


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def _cut(engine, pid: int) -> None:
    """The database ends the pooled connection's session, as a restart or an idle timeout would."""
    with create_engine(engine.url).connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_connection_used_a_moment_ago_is_not_pinged(app):
    engine = _engine(app, idle_seconds=30)
    _backend_pid(engine)
    with counting(engine) as trips, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert "PING" not in trips.sent, trips


def test_a_connection_cut_while_idle_is_replaced_before_use(app):
    engine = _engine(app, idle_seconds=0.2)
    pid = _backend_pid(engine)
    _cut(engine, pid)
    time.sleep(0.3)
    with counting(engine) as trips, engine.connect() as conn:
        assert conn.scalar(text("SELECT pg_backend_pid()")) != pid  # a new session, and no error
    assert trips.sent.count("PING") == 1, trips


def test_without_the_idle_check_the_cut_connection_fails_its_statement(app):
    engine = _engine(app, idle_seconds=3600)
    pid = _backend_pid(engine)
    _cut(engine, pid)
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn:  # the pool dropped it: the next request gets a working one
        assert conn.scalar(text("SELECT pg_backend_pid()")) != pid
