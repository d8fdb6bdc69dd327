"""The outbox row is the truth about a job: a scheduler that died is restarted within seconds, a Redis
restart that lost jobs hands them over again at once, a job that failed while its row could not be
written is settled as failed, and admins see failed jobs and can run them again."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from console_forms import login, post
from jobs_for_tests import runs
from rq.job import Job
from sqlalchemy import update

from app.core.outbox import QUEUES, enqueue, get_queue, reconcile, rq_job_id
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis
from workers.runner import Worker, reconcile_after_restart, supervise_scheduler


def _row(db_session, row_id: int) -> OutboxJob:
    db_session.expire_all()
    return db_session.get(OutboxJob, row_id)


def _worker(app) -> Worker:
    return Worker([get_queue(app, name) for name in QUEUES], connection=get_redis(app))


@pytest.mark.postgres
def test_a_scheduler_that_died_with_redis_is_started_again_by_the_watchman(app):
    worker = _worker(app)
    worker._start_scheduler()  # what worker.work(with_scheduler=True) does at start
    try:
        first = worker.scheduler._process
        assert first is not None and first.is_alive()
        first.kill()  # it dies as it does when Redis goes away under it
        first.join(5)
        assert supervise_scheduler(worker) is True
        second = worker.scheduler._process
        assert second.is_alive() and second.pid != first.pid
        assert supervise_scheduler(worker) is False  # alive: left alone
    finally:
        process = worker.scheduler._process
        if process is not None and process.is_alive():
            process.kill()  # not RQ's SIGTERM-and-wait: a child forked from pytest may not have its handler yet
            process.join(5)
        worker.scheduler.release_locks()


@pytest.mark.postgres
def test_after_a_redis_restart_the_jobs_it_lost_are_handed_over_at_once(app, db_session, run_jobs):
    job = enqueue(db_session, "jobs_for_tests.record", "lost-in-restart")
    db_session.commit()
    assert _row(db_session, job.id).status == "enqueued"
    conn = get_redis(app)
    run_id = conn.info("server")["run_id"]
    Job.fetch(rq_job_id(_row(db_session, job.id)), connection=conn).delete()  # a restart without AOF
    assert reconcile_after_restart(app, run_id) == run_id  # same server: nothing to do
    assert _row(db_session, job.id).status == "enqueued"
    assert reconcile_after_restart(app, "an-earlier-run") == run_id  # another run id: Redis restarted
    assert _row(db_session, job.id).status == "pending"
    run_jobs()
    assert runs(db_session, "lost-in-restart") == 1 and _row(db_session, job.id).status == "done"


@pytest.mark.postgres
def test_a_job_that_failed_while_its_row_could_not_be_written_is_settled_as_failed(app, db_session, run_jobs):
    job = enqueue(db_session, "jobs_for_tests.explode", "database gone")
    db_session.commit()
    run_jobs()
    assert _row(db_session, job.id).status == "failed"
    # what the row says when the database was down as the job failed: still enqueued
    db_session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(status="enqueued", last_error=None))
    db_session.commit()
    assert reconcile(app) == 0  # within the grace period nothing is decided
    assert reconcile(app, grace=timedelta(0)) == 1
    row = _row(db_session, job.id)
    assert row.status == "failed" and "job exploded: database gone" in row.last_error


def _sign_in(client, make_staff, db_session, role: str) -> None:
    staff = make_staff(role)
    db_session.commit()
    assert login(client, staff.username).status_code in (302, 303)


def test_admins_see_failed_jobs_and_run_one_again(app, db_session, client, make_staff, run_jobs):
    job = enqueue(db_session, "jobs_for_tests.explode", "once")
    db_session.commit()
    run_jobs()
    assert _row(db_session, job.id).status == "failed"
    _sign_in(client, make_staff, db_session, "admin")
    overview = client.get("/console/").get_data(as_text=True)
    assert "后台任务失败" in overview
    page = client.get("/console/jobs/failed").get_data(as_text=True)
    assert f"<td data-label=\"#\">{job.id}</td>" in page and "job exploded: once" in page
    response = post(client, f"/console/jobs/{job.id}/retry")
    assert response.status_code == 303
    run_jobs()
    assert _row(db_session, job.id).status == "failed"  # it ran again (and exploded again)
    assert _row(db_session, job.id).attempts >= 2
    post(client, f"/console/jobs/{job.id}/dismiss")
    assert _row(db_session, job.id).status == "dismissed"
    assert "没有失败的任务" in client.get("/console/jobs/failed").get_data(as_text=True)


def test_property_staff_do_not_see_the_failed_jobs(app, db_session, client, make_staff):
    _sign_in(client, make_staff, db_session, "property")
    assert client.get("/console/jobs/failed").status_code == 403


def test_the_watchman_leaves_a_worker_without_a_scheduler_alone(app):
    assert supervise_scheduler(_worker(app)) is False
    started = time.monotonic()
    assert reconcile_after_restart(app, None) is not None or not app.config["REDIS_URL"]
    assert time.monotonic() - started < 5
