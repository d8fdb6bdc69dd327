"""RQ job functions: the outbox backstop, binding expiry, and customer-service texts.

Jobs take ids and plain values; `@job` gives each one an app context and a session it commits.
"""

from __future__ import annotations

import logging

from flask import current_app
from rq import Retry, get_current_job
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.errors import WeChatError
from app.models.conversations import Message
from app.models.residents import Binding
from app.outbox import relay
from app.timeutil import utcnow
from workers.context import job

log = logging.getLogger(__name__)

# What callers pass to enqueue(..., retries=SEND_RETRY) for WeChat sends.
SEND_RETRY = Retry(max=3, interval=[10, 30, 60])
BUSY = -1
# Worth another try later: WeChat busy, quota/rate limits, a token that would not refresh.
RETRYABLE_ERRCODES = frozenset({BUSY, 45009, 45011, 40001, 40014, 42001})


@job
def relay_outbox(session: Session) -> int:
    """Hand due outbox rows to RQ (the backstop for rows a Redis outage left pending)."""
    return relay(current_app._get_current_object())


@job
def expire_bindings(session: Session) -> int:
    """Mark pending bindings past their expires_at as expired; returns how many."""
    result = session.execute(
        update(Binding)
        .where(Binding.status == "pending", Binding.expires_at < utcnow())
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.info("expired %d pending bindings", result.rowcount)
    return result.rowcount


def _rq_will_retry() -> bool:
    """Whether this job will run again if it raises now: by an RQ worker, or in embedded mode by the
    outbox (app.outbox gives an in-process job the retries its row has left)."""
    current = get_current_job()
    return current is not None and bool(current.retries_left)


@job
def send_text(session: Session, openid: str, text: str, message_id: int | None = None) -> str:
    """Send a customer-service text and record the delivery on its Message; returns sent | failed."""
    from app.wechat import send_customer_text  # noqa: PLC0415 - keeps worker import light

    message = session.get(Message, message_id) if message_id is not None else None
    try:
        send_customer_text(current_app._get_current_object(), openid, text)
    except WeChatError as exc:
        retryable = exc.errcode in RETRYABLE_ERRCODES
        if retryable and _rq_will_retry():
            log.warning("send_text to %s: errcode %s, RQ will retry", openid, exc.errcode)
            raise
        _record(session, message, "failed", exc)
        if retryable:  # out of retries: the failure is recorded, and RQ keeps the job as failed
            session.commit()
            raise
        log.info("send_text to %s not delivered (errcode %s), not retried", openid, exc.errcode)
        return "failed"
    _record(session, message, "sent")
    return "sent"


def _record(session: Session, message: Message | None, delivery: str, exc: WeChatError | None = None) -> None:
    if message is None:
        return
    message.delivery = delivery
    payload = dict(message.payload or {})
    if exc is not None:
        payload["delivery_error"] = {"errcode": exc.errcode, "errmsg": exc.errmsg, "at": utcnow().isoformat()}
    else:
        payload.pop("delivery_error", None)
    message.payload = payload
    session.flush()
