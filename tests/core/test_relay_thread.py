"""The outbox relay off the request thread (real Redis): a commit that wrote a job only wakes the process's
relay thread, which hands the row to RQ soon after; a row the thread could not push stays pending."""

from __future__ import annotations

import time

import pytest
from jobs_for_tests import redis_down, runs
from rq import SimpleWorker
from sqlalchemy import select

from app.core import relay_thread
from app.core.outbox import enqueue, get_queue, relay
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis

pytestmark = pytest.mark.postgres  # RQ on a real Redis: the embedded queue runs jobs in the request


def _status(db_session, job_id: int) -> str:
    db_session.expire_all()
    return db_session.scalar(select(OutboxJob.status).where(OutboxJob.id == job_id))


def _wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def threaded(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_RELAY_THREAD", True)
    return app


def test_the_commit_wakes_the_thread_and_the_row_reaches_rq(threaded, db_session):
    job = enqueue(db_session, "jobs_for_tests.record", "threaded")
    db_session.commit()  # returns without pushing: the thread does
    relayer = relay_thread.wake(threaded, relay)
    assert relayer.thread.is_alive() and relayer.thread is not __import__("threading").current_thread()
    assert _wait_for(lambda: _status(db_session, job.id) == "enqueued")
    assert get_queue(threaded).count == 1


def test_a_pass_that_meets_a_redis_outage_leaves_the_row_pending(threaded, db_session):
    with redis_down(threaded):
        job = enqueue(db_session, "jobs_for_tests.record", "outage")
        db_session.commit()
        relayer = relay_thread.wake(threaded, relay)
        before = relayer.passes
        assert _wait_for(lambda: relayer.passes > before)
        assert _status(db_session, job.id) == "pending"
    relay_thread.wake(threaded, relay)  # Redis is back: the next wake hands it over
    assert _wait_for(lambda: _status(db_session, job.id) == "enqueued")


def test_one_thread_per_process_and_app(threaded):
    first = relay_thread.wake(threaded, relay)
    assert relay_thread.wake(threaded, relay) is first


def test_a_job_hands_over_its_own_follow_up_without_the_thread(threaded, db_session):
    """Inside an RQ job the commit relays in place: the follow-up is in RQ before the job ends (so the
    same burst of the worker runs it), and the process's relay thread was not woken for it."""
    first = enqueue(db_session, "jobs_for_tests.chain", "chained")
    db_session.commit()
    relayer = relay_thread.wake(threaded, relay)
    assert _wait_for(lambda: _status(db_session, first.id) == "enqueued")
    passes = relayer.passes
    SimpleWorker([get_queue(threaded)], connection=get_redis(threaded)).work(burst=True)  # runs chain here
    db_session.expire_all()
    [follow_up] = [row for row in db_session.scalars(select(OutboxJob).where(OutboxJob.func == "jobs_for_tests.record"))
                   if row.args == ["chained-next"]]
    assert follow_up.status == "done" and runs(db_session, "chained-next") == 1
    assert relayer.passes == passes
