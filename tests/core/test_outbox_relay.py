"""The outbox relay: Redis outages, delayed jobs, double relays and failing jobs, on both backends."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

import pytest
from jobs_for_tests import redis_down, runs
from rq import Retry, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.outbox import QUEUES, enqueue, get_queue, pending_count, relay
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis


def _row(db_session, job: OutboxJob) -> OutboxJob:
    db_session.expire_all()
    return db_session.get(OutboxJob, job.id)


def _rq_id(row: OutboxJob) -> str:
    return f"outbox-{row.id}-{int(row.created_at.replace(tzinfo=UTC).timestamp())}"


def test_a_job_enqueued_while_redis_is_down_is_delivered_once_it_is_back(app, db_session, run_jobs):
    with redis_down(app):
        job = enqueue(db_session, "jobs_for_tests.record", "outage")
        db_session.commit()  # the after-commit relay meets the dead Redis
        row = _row(db_session, job)
        assert row.status == "pending"
        assert row.last_error.startswith("redis:")
        assert pending_count(db_session) == 1
        assert runs(db_session, "outage") == 0

    run_jobs()  # Redis is back: relay, then (real Redis) a worker burst
    run_jobs()
    assert runs(db_session, "outage") == 1
    row = _row(db_session, job)
    assert row.status == "done" and row.last_error is None  # done in the job's own commit
    assert pending_count(db_session) == 0


def test_rows_claimed_in_a_pass_that_meets_an_outage_all_go_back_to_pending(app, db_session, run_jobs):
    with redis_down(app):
        jobs = [enqueue(db_session, "jobs_for_tests.record", f"batch-{i}") for i in range(3)]
        db_session.commit()
        assert [_row(db_session, j).status for j in jobs] == ["pending"] * 3
    run_jobs()
    assert [runs(db_session, f"batch-{i}") for i in range(3)] == [1, 1, 1]


def test_a_delayed_job_does_not_run_early_and_runs_once_due(app, db_session, run_jobs):
    run_at = utcnow() + timedelta(seconds=1.5)
    job = enqueue(db_session, "jobs_for_tests.record", "later", run_at=run_at)
    db_session.commit()
    run_jobs()
    assert runs(db_session, "later") == 0

    row = _row(db_session, job)
    if app.config["REDIS_URL"]:  # handed to RQ's scheduler, at run_at in UTC
        assert row.status == "enqueued"
        registry = ScheduledJobRegistry(queue=get_queue(app, "default"))
        assert _rq_id(row) in registry.get_job_ids()
        scheduled_for = registry.get_scheduled_time(_rq_id(row))
        assert abs(scheduled_for.timestamp() - run_at.replace(tzinfo=UTC).timestamp()) < 1
    else:  # embedded mode: it waits in the outbox, untouched
        assert row.status == "pending" and row.attempts == 0

    time.sleep(max(0.0, (run_at - utcnow()).total_seconds()) + 0.2)
    relay(app)
    if app.config["REDIS_URL"]:
        queues = [get_queue(app, name) for name in QUEUES]
        SimpleWorker(queues, connection=get_redis(app)).work(burst=True, with_scheduler=True)
    run_jobs()
    assert runs(db_session, "later") == 1
    assert _row(db_session, job).status == "done"


def test_relaying_twice_never_runs_a_job_twice(app, db_session, run_jobs):
    jobs = [enqueue(db_session, "jobs_for_tests.record", f"twice-{i}") for i in range(3)]
    db_session.commit()
    assert relay(app) == 0  # the after-commit relay already took them
    run_jobs()
    run_jobs()
    assert [runs(db_session, f"twice-{i}") for i in range(3)] == [1, 1, 1]
    assert {(_row(db_session, j).status, _row(db_session, j).attempts) for j in jobs} == {("done", 1)}


def test_a_row_reclaimed_after_a_crashed_relay_is_not_run_again(app, db_session, run_jobs):
    job = enqueue(db_session, "jobs_for_tests.record", "crash")
    db_session.commit()
    run_jobs()
    assert runs(db_session, "crash") == 1
    # as if the relay died after handing the job to RQ but before recording it
    row = _row(db_session, job)
    row.status, row.enqueued_at = "relaying", utcnow() - timedelta(minutes=10)
    db_session.commit()

    run_jobs()
    assert runs(db_session, "crash") == 1
    row = _row(db_session, job)
    assert row.status == "enqueued" and row.attempts == 2


def test_a_failing_job_is_recorded_with_its_error(app, db_session, run_jobs):
    job = enqueue(db_session, "jobs_for_tests.explode", "水管爆了")
    ok = enqueue(db_session, "jobs_for_tests.record", "after-failure")
    db_session.commit()
    run_jobs()
    row = _row(db_session, job)
    assert row.status == "failed"  # the row is the truth on both backends: failed, with the reason
    assert "RuntimeError" in row.last_error and "job exploded: 水管爆了" in row.last_error
    if app.config["REDIS_URL"]:  # the worker ran it: RQ keeps the failure too
        assert _rq_id(row) in FailedJobRegistry(queue=get_queue(app, "default")).get_job_ids()
        failure = Job.fetch(_rq_id(row), connection=get_redis(app)).latest_result()
        assert "job exploded: 水管爆了" in failure.exc_string
    assert _row(db_session, ok).status == "done"
    assert runs(db_session, "after-failure") == 1


def test_an_unknown_job_name_fails_the_row_not_the_relay(app, db_session, run_jobs):
    bad = enqueue(db_session, "jobs_for_tests.no_such_job", 1)
    good = enqueue(db_session, "jobs_for_tests.record", "next-to-bad")
    db_session.commit()
    run_jobs()
    assert runs(db_session, "next-to-bad") == 1
    assert _row(db_session, good).status == "done"
    if not app.config["REDIS_URL"]:
        assert _row(db_session, bad).status == "failed"
        assert "no_such_job" in _row(db_session, bad).last_error


def test_a_retry_policy_is_stored_on_the_row_and_handed_to_rq(app, db_session, run_jobs):
    job = enqueue(db_session, "jobs_for_tests.record", "with-retry", retries=Retry(max=3, interval=[10, 30, 60]))
    db_session.commit()
    row = _row(db_session, job)
    assert row.retry == {"max": 3, "interval": [10, 30, 60]}
    rq_job = Job.fetch(_rq_id(row), connection=get_redis(app))
    assert rq_job.retries_left == 3
    assert rq_job.retry_intervals == [10, 30, 60]
    run_jobs()
    assert runs(db_session, "with-retry") == 1


def test_enqueue_rejects_an_unknown_queue_and_a_bad_retry_policy(app, db_session):
    import pytest

    with pytest.raises(ValueError):
        enqueue(db_session, "jobs_for_tests.record", "x", queue="urgent")
    with pytest.raises(ValueError):
        enqueue(db_session, "jobs_for_tests.record", "x", retries={"max": 0})


def test_a_job_with_a_retry_policy_is_tried_again_until_it_succeeds(app, db_session, run_jobs):
    """An RQ worker retries it; embedded mode puts the row back in the outbox for its next try."""
    job = enqueue(db_session, "jobs_for_tests.flaky", "flaky-ok", 2, retries=Retry(max=3, interval=0))
    db_session.commit()
    for _ in range(4):
        run_jobs()
    assert runs(db_session, "flaky-ok") == 1
    assert int(get_redis(app).get("test:flaky:flaky-ok")) == 3
    assert _row(db_session, job).status == "done"


def test_a_job_that_uses_up_its_retries_is_recorded_as_failed(app, db_session, run_jobs):
    job = enqueue(db_session, "jobs_for_tests.flaky", "flaky-never", 9, retries=Retry(max=1, interval=0))
    db_session.commit()
    for _ in range(3):
        run_jobs()
    assert runs(db_session, "flaky-never") == 0
    assert int(get_redis(app).get("test:flaky:flaky-never")) == 2  # the first try and one retry
    row = _row(db_session, job)
    if app.config["REDIS_URL"]:  # the worker ran it: RQ keeps the failure
        assert _rq_id(row) in FailedJobRegistry(queue=get_queue(app, "default")).get_job_ids()
    else:
        assert row.status == "failed" and "flaky try 2" in row.last_error and row.attempts == 2


def test_a_job_deferring_itself_into_the_past_runs_once_per_pass(app, db_session, run_jobs):
    """Each run re-enqueues itself an hour ago; one pass (and, on Redis, one worker burst) runs it once."""
    enqueue(db_session, "jobs_for_tests.defer_into_the_past", "again")
    db_session.commit()  # the after-commit relay: in embedded mode it runs the job once, then stops
    run_jobs()
    first = runs(db_session, "again")
    run_jobs()
    assert runs(db_session, "again") == first + 1  # one more pass, one more run, and the pass ended
    pending = db_session.scalars(select(OutboxJob).where(OutboxJob.status == "pending")).all()
    assert len(pending) <= 1


def test_a_pass_does_not_spin_on_a_row_it_gave_back(app, db_session):
    """A failing job with a zero-interval retry is tried once per pass, not until its tries run out."""
    job = enqueue(db_session, "jobs_for_tests.explode", "again", retries={"max": 3, "interval": 0})
    db_session.commit()  # the after-commit relay is one pass
    if app.config.get("REDIS_URL"):  # on Redis the relay only hands the job to RQ
        assert _row(db_session, job).status == "enqueued"
        return
    assert (_row(db_session, job).status, _row(db_session, job).attempts) == ("pending", 1)
    relay(app)
    assert (_row(db_session, job).status, _row(db_session, job).attempts) == ("pending", 2)


def test_a_job_redis_lost_is_handed_over_again(app, db_session, run_jobs, clock):
    """Redis restarted without persistence: the row still says enqueued, RQ no longer knows the job.
    After the grace period the reconciler puts the row back, and the job runs once."""
    from app.core.outbox import LOST_AFTER, reconcile, rq_job_id

    job = enqueue(db_session, "jobs_for_tests.record", "lost-by-redis")
    db_session.commit()
    row = _row(db_session, job)
    if not app.config["REDIS_URL"]:  # embedded: the job ran in-process, nothing to lose
        assert row.status == "done" and reconcile(app) == 0
        return
    assert row.status == "enqueued"
    conn = get_redis(app)
    Job.fetch(rq_job_id(row), connection=conn).delete()  # what a Redis restart without AOF does
    assert reconcile(app) == 0  # not before the grace period: it may just be slow
    clock.shift(LOST_AFTER + timedelta(minutes=1))
    assert reconcile(app) == 1
    assert _row(db_session, job).status == "pending"
    run_jobs()
    assert runs(db_session, "lost-by-redis") == 1 and _row(db_session, job).status == "done"


@pytest.mark.postgres
def test_the_relay_after_a_commit_needs_no_second_connection(app, db_session):
    """The request's connection is back in the pool before the relay takes one: never two at once."""
    from sqlalchemy import event as sa_event

    from app.core.db import db

    out, most = [0], [0]

    def checkout(*_args):
        out[0] += 1
        most[0] = max(most[0], out[0])

    def checkin(*_args):
        out[0] -= 1

    db_session.rollback()
    db_session.close()  # start from a session holding no connection
    sa_event.listen(db.engine, "checkout", checkout)
    sa_event.listen(db.engine, "checkin", checkin)
    try:
        enqueue(db_session, "jobs_for_tests.record", "one-connection")
        db_session.commit()  # writes the row, then the relay claims and hands it over
    finally:
        sa_event.remove(db.engine, "checkout", checkout)
        sa_event.remove(db.engine, "checkin", checkin)
    db_session.expire_all()
    assert db_session.scalars(select(OutboxJob)).one().status == "enqueued"  # handed to RQ by the relay
    assert most[0] == 1
