"""Periodic jobs: one registration list (workers/cron.py) for RQ's cron scheduler and the embedded ticker."""

from __future__ import annotations

import time
from datetime import timedelta

from jobs_for_tests import redis_down, runs
from rq import SimpleWorker
from rq.utils import now as rq_now
from sqlalchemy.orm import Session

from app.binding.models import Binding
from app.core.clock import utcnow
from app.core.db import db
from app.core.outbox import QUEUES, enqueue, get_queue
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis
from workers.cron import load_cron
from workers.embedded import EmbeddedTicker, start_embedded_ticker
from workers.runner import RelayLoop


def _work(app) -> None:
    """On real Redis, run what the cron scheduler or ticker put on the queues."""
    if app.config["REDIS_URL"]:
        queues = [get_queue(app, name) for name in QUEUES]
        SimpleWorker(queues, connection=get_redis(app)).work(burst=True)


def _overdue_binding(db_session) -> Binding:
    binding = Binding(channel="oa", openid="o_cron", status="pending", expires_at=utcnow() - timedelta(minutes=5))
    db_session.add(binding)
    db_session.commit()
    return binding


def test_the_cron_config_registers_the_periodic_jobs(app):
    jobs = {job.name: job for job in load_cron(get_redis(app)).get_jobs()}
    assert jobs["workers.jobs.relay_outbox"].interval == 60
    assert jobs["app.binding.jobs.expire_bindings"].interval == 600
    assert jobs["app.binding.jobs.expire_bindings"].queue_name == "low"
    assert jobs["app.campaigns.jobs.reap_stuck_deliveries"].interval == 600
    assert all(job.func is not None and job.queue_name in QUEUES for job in jobs.values())
    # loading twice gives the same list, not a doubled one (the ticker and `flask cron` both load it)
    assert len(load_cron(get_redis(app)).get_jobs()) == len(jobs)


def test_the_embedded_ticker_runs_due_periodic_jobs_once_per_interval(app, db_session):
    binding = _overdue_binding(db_session)
    ticker = EmbeddedTicker(app)
    first = set(ticker.tick())  # every job on an interval: none ran yet, so all are due
    expected = {"workers.jobs.relay_outbox", "app.binding.jobs.expire_bindings"}
    # a job on a cron expression (evidence cleanup at 03:40) waits for its time
    assert first == {job.name for job in ticker.cron_jobs if job.interval} >= expected
    _work(app)
    db_session.expire_all()
    assert binding.status == "expired"

    assert ticker.tick() == []  # nothing is due again within its interval
    later = rq_now() + timedelta(seconds=61)
    after_a_minute = ticker.tick(at=later)
    assert "workers.jobs.relay_outbox" in after_a_minute
    assert "app.binding.jobs.expire_bindings" not in after_a_minute
    assert {"workers.jobs.relay_outbox", "app.binding.jobs.expire_bindings"} <= set(
        ticker.tick(at=later + timedelta(seconds=600)))


def test_the_embedded_ticker_relays_a_delayed_job_once_due(app, db_session):
    job = enqueue(db_session, "jobs_for_tests.record", "ticker-later", run_at=utcnow() + timedelta(seconds=1))
    db_session.commit()
    ticker = EmbeddedTicker(app)
    ticker.cron_jobs = []  # only the relay part of the pass
    ticker.tick()
    _work(app)
    assert runs(db_session, "ticker-later") == 0
    time.sleep(1.2)
    ticker.tick()
    if app.config["REDIS_URL"]:  # on Redis the relay handed it to RQ's scheduler; let it promote the job
        queues = [get_queue(app, name) for name in QUEUES]
        SimpleWorker(queues, connection=get_redis(app)).work(burst=True, with_scheduler=True)
    assert runs(db_session, "ticker-later") == 1
    db_session.expire_all()
    assert db_session.get(OutboxJob, job.id).status == "done"


def test_the_ticker_thread_starts_only_in_embedded_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "EMBEDDED_WORKER", True)
    ticker = start_embedded_ticker(app, every=0.05)
    if app.config["REDIS_URL"]:
        assert ticker is None  # real workers run the jobs
    else:
        assert ticker is not None and ticker._thread.is_alive()
        ticker.stop()
        assert not ticker._thread.is_alive()


def test_the_cron_scheduler_enqueues_registered_jobs_on_redis(app, db_session):
    binding = _overdue_binding(db_session)
    scheduler = load_cron(get_redis(app))
    if app.config["REDIS_URL"]:
        enqueued = scheduler.enqueue_jobs()
        assert {job.name for job in enqueued} >= {"workers.jobs.relay_outbox", "app.binding.jobs.expire_bindings"}
        assert scheduler.enqueue_jobs() == []  # not due again yet
        _work(app)
        db_session.expire_all()
        assert binding.status == "expired"
    else:  # embedded: `flask cron` refuses with a clear message; the ticker does this job
        result = app.test_cli_runner().invoke(args=["cron"])
        assert result.exit_code != 0
        assert "REDIS_URL is not set" in result.output


def test_the_relay_loop_drains_rows_an_outage_left_pending(app, db_session):
    with redis_down(app):
        job = enqueue(db_session, "jobs_for_tests.record", "relay-loop")
        db_session.commit()
        job_id = job.id
    db_session.close()
    loop = RelayLoop(app, every=0.05)
    loop.start()
    deadline = time.monotonic() + 5
    status = "pending"
    handed_over = "enqueued" if app.config["REDIS_URL"] else "done"  # embedded: the relay ran it too
    while status != handed_over and time.monotonic() < deadline:
        time.sleep(0.1)
        with Session(db.engine) as s:
            status = s.get(OutboxJob, job_id).status
    loop.stop()
    loop.join(2)
    assert not loop.is_alive()
    assert status == handed_over
    _work(app)
    assert runs(db_session, "relay-loop") == 1
