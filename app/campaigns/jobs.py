"""Campaign fan-out: audience pages -> Delivery rows -> batch jobs (500) -> bounded concurrent sends.

Idempotency: a Delivery is UNIQUE (campaign_id, resident_id) and is claimed (queued -> sending,
committed) before its message is sent, so a rerun of any job never sends twice. A batch that
hits busy/rate-limit errors puts those deliveries back to queued and reschedules itself with
backoff; cancelling the campaign skips everything still queued, so remaining batches send nothing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import Flask, current_app
from rq import Queue
from sqlalchemy import exists, func, select, text, update
from sqlalchemy.orm import Session

from app.campaigns import audience
from app.campaigns.campaigns import render_body, skip_queued
from app.campaigns.models import Campaign, Delivery
from app.core.clock import utcnow
from app.core.db import conflict_insert
from app.core.outbox import enqueue, get_queue
from app.notify.channels import Outcome, OutgoingMessage, Recipient, deliver_all, load_recipients
from app.notify.models import MUTABLE_CATEGORIES
from app.notify.notify import defer_for_quiet_hours, message_template
from workers.context import job

log = logging.getLogger(__name__)
PAGE = 1000  # audience ids read per keyset page
BATCH = 500  # residents per batch job (config CAMPAIGN_BATCH_SIZE)
CONCURRENCY = 48  # sends in flight per worker (config CAMPAIGN_CONCURRENCY): I/O-bound, WeChat RTT ~50 ms
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = (15, 60, 300)
BATCH_JOB = "app.campaigns.jobs.send_batch"
_pools: dict[int, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def pool_for(app: Flask) -> ThreadPoolExecutor:
    """The process's send pool (CAMPAIGN_CONCURRENCY threads), sharing the app's clients."""
    with _pool_lock:
        pool = _pools.get(id(app))
        if pool is None:
            size = int(app.config.get("CAMPAIGN_CONCURRENCY", CONCURRENCY))
            pool = _pools[id(app)] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="campaign-send")
        return pool


def _insert_ignoring_duplicates(session: Session):
    return conflict_insert(session, Delivery).on_conflict_do_nothing(index_elements=["campaign_id", "resident_id"])


def batch_size(app: Flask) -> int:
    """Residents per batch job."""
    return int(app.config.get("CAMPAIGN_BATCH_SIZE", BATCH))


def _push_per_message(app: Flask, session: Session, campaign_id: int, ids: list[int]) -> None:
    """The baseline's one job per resident, pushed to RQ in one pipeline once the deliveries are committed.

    (Going through the outbox would make the baseline measure the outbox relay, one row at a time.)
    Benchmark-only: unlike the outbox, jobs lost to a Redis outage here are not re-sent by a rerun.
    """
    queue = get_queue(app, "low")
    if not queue.is_async:  # embedded mode: the outbox runs jobs in-process
        for rid in ids:
            enqueue(session, BATCH_JOB, campaign_id, rid, rid, queue="low")
        return
    stamp = int(utcnow().timestamp())
    queue.enqueue_many([
        Queue.prepare_data(BATCH_JOB, (campaign_id, rid, rid), job_id=f"campaign-{campaign_id}-{rid}-{stamp}",
                           result_ttl=3600, failure_ttl=7 * 86400)
        for rid in ids
    ])


def _resume_after(session: Session, campaign_id: int) -> int:
    return session.scalar(select(func.max(Delivery.resident_id)).where(Delivery.campaign_id == campaign_id)) or 0


@job
def start_campaign(session: Session, campaign_id: int, per_message: bool = False) -> int:
    """Move a scheduled campaign to sending and fan out its audience; returns deliveries created.

    per_message=True enqueues one job per resident instead of batches (the benchmark's baseline).
    """
    now = utcnow()
    session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "scheduled")
        .values(status="sending", started_at=now).execution_options(synchronize_session=False)
    )
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "sending" or campaign.fanout_done:
        return 0  # cancelled, finished, or a rerun after the fan-out completed
    session.commit()
    after, created = _resume_after(session, campaign_id), 0
    app = current_app._get_current_object()
    step = batch_size(app)
    while True:
        ids = audience.page_ids(session, campaign.community_id, campaign.audience, after_id=after, limit=PAGE)
        if not ids:
            break
        session.execute(_insert_ignoring_duplicates(session), [
            {"campaign_id": campaign_id, "resident_id": rid, "status": "queued", "attempts": 0} for rid in ids
        ])
        if not per_message:
            for start in range(0, len(ids), step):
                chunk = ids[start:start + step]
                enqueue(session, BATCH_JOB, campaign_id, chunk[0], chunk[-1], queue="low")
        created += len(ids)
        after = ids[-1]
        campaign.total = (campaign.total or 0) + len(ids)
        session.commit()  # this page's deliveries and batch jobs go out now; batches start while we read on
        if per_message:
            _push_per_message(app, session, campaign_id, ids)
            session.commit()
        session.refresh(campaign)
        if campaign.status != "sending":
            log.info("campaign %s %s during fan-out; stopping", campaign_id, campaign.status)
            return created
    campaign.total = session.scalar(select(func.count()).where(Delivery.campaign_id == campaign_id)) or 0
    campaign.fanout_done = True
    session.flush()
    finish_if_done(session, campaign_id)
    return created


def finish_if_done(session: Session, campaign_id: int) -> bool:
    """Mark the campaign sent once the fan-out is done and nothing is queued or sending.

    The campaign row is locked first and the deliveries checked in a separate statement: two last
    batches finishing at once then check one after the other, the second seeing the first's
    committed outcomes. (One UPDATE ... WHERE NOT EXISTS evaluates its subquery on the snapshot
    taken before the lock wait, so each saw the other still sending and the campaign stayed sending.)
    """
    ready = select(Campaign.id).where(Campaign.id == campaign_id, Campaign.status == "sending",
                                      Campaign.fanout_done.is_(True)).with_for_update()
    if session.execute(ready).first() is None:
        return False
    open_rows = exists().where(Delivery.campaign_id == campaign_id, Delivery.status.in_(("queued", "sending")))
    if session.scalar(select(open_rows)):
        return False
    session.execute(
        update(Campaign).where(Campaign.id == campaign_id)
        .values(status="sent", finished_at=utcnow()).execution_options(synchronize_session=False)
    )
    return True


_RECORD_PG = text(
    "UPDATE delivery SET status = o.status, channel = o.channel, reason = o.reason, updated_at = :now "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS varchar[]), CAST(:channels AS varchar[]), "
    "CAST(:reasons AS varchar[])) AS o(id, status, channel, reason) WHERE delivery.id = o.id"
)


def record_outcomes(session: Session, rows: list[dict]) -> None:
    """Write each delivery's status, channel, reason and updated_at (PostgreSQL: one UPDATE ... FROM unnest)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(Delivery), rows)  # bulk UPDATE by primary key
        return
    session.execute(_RECORD_PG, {
        "now": rows[0]["updated_at"], "ids": [r["id"] for r in rows], "statuses": [r["status"] for r in rows],
        "channels": [r["channel"] for r in rows], "reasons": [r["reason"] for r in rows],
    })


def backoff(attempts: int) -> timedelta:
    """The wait before a batch's next attempt after `attempts` tries."""
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


@job
def send_batch(session: Session, campaign_id: int, lo: int, hi: int) -> dict[str, int]:
    """Send the campaign to its queued deliveries with resident ids in [lo, hi]; returns counts."""
    app = current_app._get_current_object()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return {}
    if campaign.status == "cancelled":
        return {"skipped": skip_queued(session, campaign_id, lo, hi)}
    if campaign.status != "sending":
        return {}
    later = defer_for_quiet_hours(utcnow(), urgent=campaign.urgent)
    if later is not None:  # the fan-out ran into 22:00: the rest waits for the morning
        enqueue(session, BATCH_JOB, campaign_id, lo, hi, queue="low", run_at=later)
        return {"deferred": 1}
    claimed = session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.resident_id.between(lo, hi), Delivery.status == "queued")
        .values(status="sending", attempts=Delivery.attempts + 1, updated_at=utcnow())
        .returning(Delivery.id, Delivery.resident_id, Delivery.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        finish_if_done(session, campaign_id)
        return {}
    session.commit()  # claimed before anything is sent: a rerun finds nothing queued

    by_resident = {rid: (did, attempts) for did, rid, attempts in claimed}
    recipients = load_recipients(session, list(by_resident))
    template = message_template(campaign.template, app.config.get("NOTIFY_TEMPLATE_IDS"))
    muted = {rid for rid, r in recipients.items()
             if campaign.category in MUTABLE_CATEGORIES and campaign.category in r.muted}
    to_send = [r for rid, r in recipients.items() if rid not in muted]

    def message_for(r: Recipient) -> OutgoingMessage:
        return OutgoingMessage(render_body(campaign.body, name=r.name, building=r.building), template,
                               {}, campaign.link)

    outcomes = deliver_all(app, session, to_send, message_for, pool_for(app))
    outcomes.update({rid: Outcome("skipped", None, "muted") for rid in muted})
    now, rows, counts, retry_attempts = utcnow(), [], {}, 0
    for rid, (delivery_id, attempts) in by_resident.items():
        outcome = outcomes.get(rid) or Outcome("skipped", None, "resident_gone")
        status = outcome.status
        if status == "retry":
            if attempts < MAX_ATTEMPTS:
                status, retry_attempts = "queued", max(retry_attempts, attempts)
            else:
                status = "failed"
        counts[status] = counts.get(status, 0) + 1
        rows.append({"id": delivery_id, "status": status, "channel": outcome.channel,
                     "reason": outcome.reason, "updated_at": now})
    record_outcomes(session, rows)
    if retry_attempts:
        enqueue(session, BATCH_JOB, campaign_id, lo, hi, queue="low", run_at=now + backoff(retry_attempts))
    session.flush()
    finish_if_done(session, campaign_id)
    return counts


STUCK_AFTER = timedelta(minutes=30)  # a batch of 500 is sent in well under a minute


@job
def reap_stuck_deliveries(session: Session) -> int:
    """Deliveries a worker claimed and then died on, before recording how the send went.

    They become failed with reason `worker_lost` rather than queued again: the message may have
    reached the resident, and sending it twice is worse than staff seeing one unknown in the
    counts. Their campaigns are then marked sent if nothing else is open. Returns rows reaped.
    """
    now = utcnow()
    stuck = (Delivery.status == "sending") & (
        Delivery.updated_at.is_(None) | (Delivery.updated_at < now - STUCK_AFTER))
    reaped = session.execute(
        update(Delivery).where(stuck).values(status="failed", reason="worker_lost", updated_at=now)
        .returning(Delivery.campaign_id).execution_options(synchronize_session=False)
    ).scalars().all()
    for campaign_id in sorted(set(reaped)):
        finish_if_done(session, campaign_id)
    if reaped:
        log.warning("campaigns: %d delivery(ies) left sending by a lost worker marked failed", len(reaped))
    return len(reaped)
