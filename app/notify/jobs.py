"""Jobs that deliver notify()'s notifications: one message, and a resident's daily digest.

A notification is claimed (queued -> sending, committed) before anything is sent, so a job
that runs twice sends at most once.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.core.outbox import enqueue
from app.notify import notify as svc
from app.notify.channels import Outcome, OutgoingMessage, deliver_all, load_recipients
from app.notify.models import MUTABLE_CATEGORIES, Notification
from workers.context import job

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = (30, 120, 600)  # before the 2nd, 3rd and 4th attempt


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next attempt after `attempts` tries."""
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def _outgoing(app: Flask, note_text: str, template: str | None, data: dict, link: str | None) -> OutgoingMessage:
    return OutgoingMessage(note_text, svc.message_template(template, app.config.get("NOTIFY_TEMPLATE_IDS")),
                           dict(data or {}), link)


def _send(app: Flask, session: Session, resident_id: int, message: OutgoingMessage) -> Outcome:
    recipients = load_recipients(session, [resident_id])
    if not recipients:
        return Outcome("skipped", None, "resident_gone")
    return deliver_all(app, session, list(recipients.values()), lambda _r: message)[resident_id]


def _settle(note: Notification, outcome: Outcome) -> None:
    note.status, note.channel, note.reason = outcome.status, outcome.channel, outcome.reason
    if outcome.status == "sent":
        note.sent_at = utcnow()


@job
def deliver_notification(session: Session, notification_id: int) -> str:
    """Deliver one notification on the best channel (or hold it for the digest); returns its status."""
    app = current_app._get_current_object()
    taken = session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.status == "queued")
        .values(status="sending", attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return "already_handled"
    session.commit()  # the claim is durable before anything is sent
    note = session.get(Notification, notification_id)
    assert note is not None
    pref = svc.preferences(session, note.resident_id)
    if note.category in MUTABLE_CATEGORIES and note.category in (pref.muted or []):
        note.status, note.reason = "muted", "muted_before_delivery"
        return note.status
    threshold = int(app.config.get("NOTIFY_DIGEST_AFTER", svc.DIGEST_AFTER))
    if svc.digest_due(session, note, threshold):
        svc.hold_for_digest(session, note)
        return note.status
    message = _outgoing(app, note.text, note.template, note.data, note.link)
    outcome = _send(app, session, note.resident_id, message)
    if outcome.status == "retry" and note.attempts < MAX_ATTEMPTS:
        note.status, note.reason = "queued", outcome.reason
        enqueue(session, svc.DELIVER_JOB, note.id, queue="high" if note.urgent else "default",
                run_at=utcnow() + backoff(note.attempts))
        return "retry"
    if outcome.status == "retry":
        outcome = Outcome("failed", outcome.channel, f"gave up after {note.attempts} attempts: {outcome.reason}")
    _settle(note, outcome)
    log.info("notification %s to resident %s: %s via %s (%s)", note.id, note.resident_id,
             note.status, note.channel, note.reason)
    return note.status


@job
def send_digest(session: Session, resident_id: int, day: str) -> str:
    """Send a resident one message summing up the day's held notifications."""
    app = current_app._get_current_object()
    local_day = date.fromisoformat(day)
    ids = list(session.scalars(
        update(Notification)
        .where(Notification.resident_id == resident_id, Notification.local_day == local_day,
               Notification.status == "digest")
        .values(status="sending", attempts=Notification.attempts + 1)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ))
    if not ids:
        return "nothing"
    session.commit()
    notes = list(session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)))
    message = _outgoing(app, svc.digest_text(notes), "digest", {}, None)
    outcome = _send(app, session, resident_id, message)
    attempts = max(n.attempts for n in notes)
    if outcome.status == "retry" and attempts < MAX_ATTEMPTS:
        for note in notes:
            note.status = "digest"
        enqueue(session, svc.DIGEST_JOB, resident_id, day, run_at=utcnow() + backoff(attempts))
        return "retry"
    if outcome.status == "retry":
        outcome = Outcome("failed", outcome.channel, f"gave up after {attempts} attempts: {outcome.reason}")
    for note in notes:
        _settle(note, Outcome(outcome.status, outcome.channel, f"digest: {outcome.reason or 'ok'}"[:200]))
    return outcome.status
