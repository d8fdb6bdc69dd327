"""Jobs are written to the outbox in the caller's transaction and relayed to RQ after commit.

A Redis outage during a request therefore loses nothing: the row stays pending and the
next relay (after the next commit, or the worker's relay loop) delivers it.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session

from app.core import relay_thread
from app.core.clock import utcnow
from app.core.db import db
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis

log = logging.getLogger(__name__)
QUEUES = ("high", "default", "low")
STUCK_AFTER = timedelta(minutes=5)
LOST_AFTER = timedelta(minutes=10)  # an enqueued row whose job RQ no longer knows after this is handed over again
MAX_ROUNDS = 100  # a pass ends even if jobs keep enqueuing immediate follow-ups of themselves
_local = threading.local()


def enqueue(
    session: Session,
    func: str,
    *args,
    queue: str = "default",
    run_at: datetime | None = None,
    retries: Retry | dict | None = None,
    **kwargs,
) -> OutboxJob:
    """Record a job (by dotted name) to run after the current transaction commits.

    retries: an rq ``Retry`` (or ``{"max": 3, "interval": [10, 30, 60]}``) handed to RQ on relay.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    job = OutboxJob(func=func, args=list(args), kwargs=kwargs, queue=queue, run_at=run_at,
                    retry=_retry_spec(retries))
    session.add(job)
    session.info["outbox_dirty"] = True
    return job


def get_queue(app: Flask, name: str = "default") -> Queue:
    """An RQ queue on the app's Redis; in embedded mode jobs run synchronously in-process."""
    embedded = not app.config.get("REDIS_URL")
    return Queue(name, connection=get_redis(app), is_async=not embedded)


def _retry_spec(retries: Retry | dict | None) -> dict | None:
    """The retry policy as plain JSON for the outbox row."""
    if retries is None:
        return None
    if isinstance(retries, Retry):
        return {"max": retries.max, "interval": list(retries.intervals)}
    Retry(max=retries["max"], interval=retries.get("interval", 0))  # validates
    return {"max": int(retries["max"]), "interval": retries.get("interval", 0)}


class _Pass:
    """What one relay pass has done, so that it never takes the same work twice.

    horizon: the highest outbox id when the pass began. A row created during the pass with a
    run_at (a job that deferred itself, or scheduled a follow-up) waits for the next pass, even
    when its time has already come; a row created without one (a job's immediate follow-up) runs.
    retried: rows this pass gave back for another try (in-process retries); they wait likewise.
    """

    def __init__(self) -> None:
        self.horizon: int | None = None
        self.retried: set[int] = set()
        self.short = False  # the last claim took fewer rows than it asked for


def _claim(app: Flask, limit: int, this_pass: _Pass | None = None) -> list[OutboxJob]:
    """Mark due pending rows as relaying and return detached copies of them, as claimed (status
    relaying, attempts counting this try).

    On PostgreSQL one UPDATE … RETURNING takes the rows its subquery locked (FOR UPDATE SKIP LOCKED):
    a row another relay holds is skipped, never taken twice. Elsewhere (SQLite, one writer at a time)
    each row is taken with a conditional UPDATE (status and enqueued_at unchanged since we read it).
    """
    now = utcnow()
    embedded = not app.config.get("REDIS_URL")
    this_pass = this_pass or _Pass()
    with Session(db.engine, expire_on_commit=False) as s:
        if this_pass.horizon is None:
            this_pass.horizon = s.scalar(select(func.max(OutboxJob.id))) or 0
        due = or_(OutboxJob.run_at.is_(None), OutboxJob.run_at <= now)
        waiting = OutboxJob.status == "pending"
        if embedded:
            waiting = waiting & due  # no scheduler in embedded mode: hold future jobs here
        stuck = (OutboxJob.status == "relaying") & (OutboxJob.enqueued_at < now - STUCK_AFTER)
        fresh = or_(OutboxJob.id <= this_pass.horizon, OutboxJob.run_at.is_(None))
        query = select(OutboxJob).where(or_(waiting, stuck), fresh)
        if this_pass.retried:
            query = query.where(OutboxJob.id.not_in(this_pass.retried))
        query = query.order_by(OutboxJob.id).limit(limit)
        take = {"status": "relaying", "enqueued_at": now, "attempts": OutboxJob.attempts + 1}
        postgres = s.bind.dialect.name == "postgresql"
        if postgres:
            locked = query.with_only_columns(OutboxJob.id).with_for_update(skip_locked=True).scalar_subquery()
            claimed = sorted(s.scalars(update(OutboxJob).where(OutboxJob.id.in_(locked)).values(**take)
                                       .returning(OutboxJob), execution_options={"synchronize_session": False}),
                             key=lambda row: row.id)
        else:
            claimed = []
            for row in s.scalars(query).all():
                seen = (OutboxJob.enqueued_at.is_(None) if row.enqueued_at is None
                        else OutboxJob.enqueued_at == row.enqueued_at)
                taken = s.execute(
                    update(OutboxJob).where(OutboxJob.id == row.id, OutboxJob.status == row.status, seen)
                    .values(**take).execution_options(synchronize_session=False)
                ).rowcount
                if taken == 1:
                    claimed.append(row)
        s.commit()
        if not postgres:
            s.expunge_all()  # detached: what the claim wrote is set on the copies, not written again
            for row in claimed:
                row.status, row.enqueued_at, row.attempts = "relaying", now, row.attempts + 1
    this_pass.short = len(claimed) < limit
    return claimed


def _settle(job_id: int, status: str, error: str | None = None) -> None:
    """Record the relay's outcome: enqueued, pending again (Redis down) or failed (ran and raised)."""
    _settle_many([job_id], status, error)


def _settle_many(job_ids: list[int], status: str, error: str | None = None, run_at: datetime | None = None) -> None:
    """Record one outcome for several rows in one statement (run_at: when a retry is due)."""
    if not job_ids:
        return
    values = {"status": status, "last_error": (error or None) and error[:1000]}
    if run_at is not None:
        values["run_at"] = run_at
    with Session(db.engine) as s:
        s.execute(
            update(OutboxJob)
            .where(OutboxJob.id.in_(job_ids), OutboxJob.status == "relaying")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        s.commit()


def rq_job_id(row: OutboxJob) -> str:
    """The RQ job id of an outbox row (created_at in it: a database reset that reuses ids never collides)."""
    return f"outbox-{row.id}-{int(row.created_at.replace(tzinfo=UTC).timestamp())}"


def row_id_of(rq_job_id: str | None) -> int | None:
    """The outbox row behind an RQ job id, if it is one of ours."""
    parts = (rq_job_id or "").split("-")
    return int(parts[1]) if len(parts) == 3 and parts[0] == "outbox" and parts[1].isdigit() else None


def mark_done(session: Session, row_id: int) -> None:
    """Record in the job's own transaction that its row's work is done (committed with that work)."""
    session.execute(update(OutboxJob).where(OutboxJob.id == row_id, OutboxJob.status.in_(("enqueued", "relaying")))
                    .values(status="done", last_error=None).execution_options(synchronize_session=False))


def mark_failed(row_id: int, error: str) -> None:
    """Record that a job failed for good (its retries used up): the row says so, with the reason."""
    with Session(db.engine) as s:
        s.execute(update(OutboxJob).where(OutboxJob.id == row_id, OutboxJob.status.in_(("enqueued", "relaying")))
                  .values(status="failed", last_error=error[-1000:]).execution_options(synchronize_session=False))
        s.commit()


def reconcile(app: Flask, grace: timedelta = LOST_AFTER) -> int:
    """Settle rows handed to RQ (status enqueued) by what RQ knows of their jobs, after a grace period:
    a job RQ no longer knows (Redis lost it: restarted without persistence) goes back to pending, so the
    relay hands it over again (jobs are idempotent); a job that failed for good while its row could not
    be written (the database was down as it failed) makes the row failed, with the reason, for admins.
    Returns how many rows changed. Redis mode only."""
    if not app.config.get("REDIS_URL"):
        return 0
    now = utcnow()
    conn = get_redis(app)
    with Session(db.engine) as s:
        # a job scheduled for later is known to RQ too (its scheduled registry): the same test applies
        rows = s.scalars(select(OutboxJob).where(
            OutboxJob.status == "enqueued", OutboxJob.enqueued_at <= now - grace).limit(1000)).all()
    jobs = Job.fetch_many([rq_job_id(row) for row in rows], connection=conn) if rows else []
    lost = [row.id for row, rq_job in zip(rows, jobs, strict=True) if rq_job is None]
    failed = [(row.id, _failure_text(rq_job)) for row, rq_job in zip(rows, jobs, strict=True)
              if rq_job is not None and rq_job.is_failed and not rq_job.retries_left]
    if lost:
        log.warning("outbox: %d job(s) RQ no longer knows go back to pending: %s", len(lost), lost[:20])
        with Session(db.engine) as s:
            s.execute(update(OutboxJob).where(OutboxJob.id.in_(lost), OutboxJob.status == "enqueued")
                      .values(status="pending", last_error="lost by Redis; handed over again")
                      .execution_options(synchronize_session=False))
            s.commit()
    for row_id, reason in failed:
        log.error("outbox job %s failed for good (found by reconcile): %s", row_id, reason.splitlines()[-1])
        mark_failed(row_id, reason)
    return len(lost) + len(failed)


def retry_failed(app: Flask, session: Session, row_id: int) -> bool:
    """Give a job that failed for good another run (an admin's decision): RQ's record of the failed run is
    removed, so the relay can hand the same job id over again after the caller commits. False when the
    row is not failed."""
    row = session.get(OutboxJob, row_id)
    if row is None or row.status != "failed":
        return False
    try:
        old = Job.fetch_many([rq_job_id(row)], connection=get_redis(app))[0]
        if old is not None:
            old.delete()
    except RedisError as exc:  # the relay cannot hand it over either until Redis is back; reconcile settles it
        log.warning("outbox: could not remove failed job %s from RQ: %s", row_id, exc)
    row.status, row.run_at = "pending", None
    session.info["outbox_dirty"] = True  # relay after the commit, as for a new job
    return True


def _push(queue: Queue, row: OutboxJob) -> Any:
    """Hand one outbox row to RQ: now, or at run_at through RQ's scheduler."""
    options: dict[str, Any] = {
        "job_id": rq_job_id(row),
        "result_ttl": 3600,
        "failure_ttl": 7 * 86400,
    }
    if row.retry:
        # embedded: each try is a fresh in-process job, so it carries the retries the row has left
        # (the job can tell whether a failure is final; _retry_in_process gives the next try)
        left = int(row.retry["max"]) - (0 if queue.is_async else row.attempts - 1)  # tries before this one
        if left >= 1:
            options["retry"] = Retry(max=left, interval=row.retry.get("interval", 0))
    if queue.is_async:
        options["unique"] = True  # a row re-claimed after a crash is not enqueued a second time
    elif Job.exists(options["job_id"], connection=queue.connection):
        # embedded: a row re-claimed as stuck while its job still runs (or ran) in this process
        raise DuplicateJobError(options["job_id"])
    if queue.is_async and row.run_at is not None:
        # Through RQ's scheduler even when the time has passed: a job that deferred itself to a past
        # time then waits for the scheduler's next tick instead of looping through the worker.
        # run_at is naive UTC; RQ reads naive datetimes as local time.
        return queue.enqueue_at(row.run_at.replace(tzinfo=UTC), row.func, *row.args, **row.kwargs, **options)
    return queue.enqueue(row.func, *row.args, **row.kwargs, **options)


def _retry_in_process(row: OutboxJob, rq_job: Any, error: str) -> bool:
    """Embedded mode: give a failed job with a retry policy its next try, as an RQ worker would.

    The row goes back to pending with run_at after the policy's interval (the ticker relays it when
    due) and the failed in-process job is dropped, so its id is free for the next try. False when
    the row has no policy or has used it up.
    """
    tries = row.attempts  # the claim counted this try
    if not row.retry or tries > int(row.retry["max"]):
        return False
    intervals = row.retry.get("interval", 0)
    intervals = intervals if isinstance(intervals, list) else [intervals]
    wait = intervals[min(tries, len(intervals)) - 1] if intervals else 0
    rq_job.delete()
    log.warning("outbox job %s (%s) failed in-process, try %d again in %ss: %s",
                row.id, row.func, tries + 1, wait, error.splitlines()[-1] if error else "")
    _settle_many([row.id], "pending", error[-1000:], run_at=utcnow() + timedelta(seconds=float(wait)))
    return True


def _failure_text(job: Any) -> str:
    result = job.latest_result()
    return (result.exc_string if result is not None and result.exc_string else "job failed").strip()


def relay(app: Flask | None = None, limit: int = 200) -> int:
    """Push due outbox rows to RQ; returns how many were enqueued. Safe to call any time."""
    app = app or current_app._get_current_object()
    if getattr(_local, "active", False):
        return 0  # a job run synchronously inside a relay committed: the outer loop picks it up
    _local.active = True
    done, this_pass = 0, _Pass()
    try:
        for _ in range(MAX_ROUNDS):
            claimed = _claim(app, limit, this_pass)
            if not claimed:
                return done
            enqueued: list[int] = []
            try:
                redis_down = _relay_batch(app, claimed, enqueued, this_pass.retried)
            finally:  # one statement per batch; a crash before it only means a harmless re-claim
                _settle_many(enqueued, "enqueued")
            done += len(enqueued)
            if redis_down:
                return done
            if this_pass.short and app.config.get("REDIS_URL"):
                # every due row was taken; with Redis no job ran here and wrote more (embedded, a job
                # runs in-process and its follow-ups wait for the next round), and a request that
                # commits more wakes a pass of its own
                return done
        log.warning("outbox relay: stopped after %d rounds; the next pass goes on", MAX_ROUNDS)
        return done
    finally:
        _local.active = False


def _relay_batch(app: Flask, claimed: list[OutboxJob], enqueued: list[int], retried: set[int]) -> bool:
    """Push one claimed batch, noting pushed and retried ids; True if it stopped on a Redis error."""
    for index, row in enumerate(claimed):
        queue = get_queue(app, row.queue)
        try:
            rq_job = _push(queue, row)
        except DuplicateJobError:
            log.info("outbox job %s was already handed to RQ", row.id)
            _settle(row.id, "enqueued")
            continue
        except RedisError as exc:
            log.warning("outbox relay: redis unavailable, %d job(s) stay pending: %s", len(claimed) - index, exc)
            # give back what this pass claimed but did not push
            _settle_many([rest.id for rest in claimed[index:]], "pending", f"redis: {exc}")
            return True
        except Exception as exc:  # the job could not be built (bad name, bad arguments)
            log.exception("outbox job %s (%s) could not be enqueued", row.id, row.func)
            _settle(row.id, "failed", repr(exc))
            continue
        if not queue.is_async and rq_job.is_failed:  # embedded: it ran in-process and raised
            error = _failure_text(rq_job)
            if _retry_in_process(row, rq_job, error):
                retried.add(row.id)
                continue
            log.error("outbox job %s (%s) failed in-process: %s", row.id, row.func, error)
            _settle(row.id, "failed", error[-1000:])
            continue
        enqueued.append(row.id)
    return False


def pending_count(session: Session) -> int:
    """How many outbox rows wait for Redis."""
    query = select(func.count()).select_from(OutboxJob).where(OutboxJob.status.in_(("pending", "relaying")))
    return session.scalar(query) or 0


def install_after_commit_relay(app: Flask) -> None:
    """After any commit that wrote outbox rows, relay them (best effort).

    The relay runs once the committed transaction has ended and given its connection back to the
    pool (after_transaction_end), not inside after_commit, when the request still holds it: a burst
    of requests each holding one connection while waiting for a second used to drain the pool, and
    requests that had committed answered 500 after a 30-second wait.

    With OUTBOX_RELAY_THREAD (the default with Redis), the request only wakes its process's relay thread
    (app/core/relay_thread.py); embedded mode and the tests relay in the request, so jobs run in order."""

    @event.listens_for(db.session, "after_commit")
    def _mark_relay_due(session: Session) -> None:
        if session.info.pop("outbox_dirty", False):
            session.info["relay_due"] = True

    @event.listens_for(db.session, "after_transaction_end")
    def _relay_when_released(session: Session, transaction) -> None:
        if transaction.parent is not None or not session.info.pop("relay_due", False):
            return
        if has_app_context():
            app = current_app._get_current_object()
            # inside an RQ job the relay stays inline: a forked work-horse exits before a thread would push
            if app.config.get("OUTBOX_RELAY_THREAD") and not app.config.get("EMBEDDED") and get_current_job() is None:
                relay_thread.wake(app, relay)  # the request answers without waiting for Redis
            else:
                relay(app)
