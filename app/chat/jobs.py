"""Chat jobs: answers that did not fit WeChat's reply budget (run the chat core, send a
customer-service message), and customer-service texts with their delivery recorded on the Message."""

from __future__ import annotations

import logging

from flask import current_app
from rq import Retry, get_current_job
from sqlalchemy.orm import Session

from app.chat import core as chat
from app.chat import nonces
from app.chat.conversations import message_by_dedup_key, record_outbound
from app.chat.env import env_of
from app.chat.models import Conversation, Message
from app.core.clock import utcnow
from app.core.errors import WeChatError
from app.wechat import send_customer_text
from app.wechat.errcodes import RETRY_LATER_OR_TOKEN
from workers.context import job

log = logging.getLogger(__name__)


def reply_key(message_id: int) -> str:
    """The dedup key of the one outbound answer to an inbound message."""
    return f"reply:{message_id}"


@job
def reply_later(session: Session, message_id: int) -> str | None:
    """Answer inbound message `message_id` through the chat core and send it; once only."""
    inbound = session.get(Message, message_id)
    if inbound is None or inbound.direction != "in":
        log.warning("reply_later: no inbound message %s", message_id)
        return None
    done = message_by_dedup_key(session, reply_key(message_id))
    if done is not None and done.delivery == "sent":
        return done.content  # the job ran before (RQ delivers at least once)
    conversation = session.get(Conversation, inbound.conversation_id)
    if done is not None:  # an earlier attempt answered but could not send: resend, do not act twice
        text = done.content
    else:
        text = chat.handle_text(session, channel=conversation.channel, openid=conversation.openid,
                                text=inbound.content, env=env_of(current_app))
        if not text:  # silent: staff hold the conversation
            return None
    try:
        send_customer_text(current_app._get_current_object(), conversation.openid, text)
    except WeChatError as err:
        log.warning("reply_later: customer-service message to %s failed: %s", conversation.openid, err.errcode)
        _record(session, done, conversation, text, message_id, "failed", {"errcode": err.errcode})
        return None
    _record(session, done, conversation, text, message_id, "sent", {})
    return text


def _record(session: Session, done: Message | None, conversation: Conversation, text: str, message_id: int,
            delivery: str, extra: dict) -> None:
    payload = {"in_reply_to": message_id, **extra}
    if done is not None:  # an earlier failed attempt: this one's outcome replaces it
        done.content, done.delivery, done.payload = text, delivery, payload
        session.flush()
        return
    record_outbound(session, conversation, text, delivery=delivery, dedup_key=reply_key(message_id),
                    payload=payload)


# What callers pass to enqueue(..., retries=SEND_RETRY) for WeChat sends.
SEND_RETRY = Retry(max=3, interval=[10, 30, 60])
# Worth another try later: WeChat busy, quota/rate limits, a token that would not refresh.
RETRYABLE_ERRCODES = RETRY_LATER_OR_TOKEN


def _rq_will_retry() -> bool:
    """Whether this job will run again if it raises now: by an RQ worker, or in embedded mode by the
    outbox (app.core.outbox gives an in-process job the retries its row has left)."""
    current = get_current_job()
    return current is not None and bool(current.retries_left)


@job
def send_text(session: Session, openid: str, text: str, message_id: int | None = None) -> str:
    """Send a customer-service text and record the delivery on its Message; returns sent | failed."""
    message = session.get(Message, message_id) if message_id is not None else None
    try:
        send_customer_text(current_app._get_current_object(), openid, text)
    except WeChatError as exc:
        retryable = exc.errcode in RETRYABLE_ERRCODES
        if retryable and _rq_will_retry():
            log.warning("send_text to %s: errcode %s, RQ will retry", openid, exc.errcode)
            raise
        _record_delivery(session, message, "failed", exc)
        if retryable:  # out of retries: the failure is recorded, and RQ keeps the job as failed
            session.commit()
            raise
        log.info("send_text to %s not delivered (errcode %s), not retried", openid, exc.errcode)
        return "failed"
    _record_delivery(session, message, "sent")
    return "sent"


def _record_delivery(session: Session, message: Message | None, delivery: str, exc: WeChatError | None = None) -> None:
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


@job
def forget_expired_nonces(session: Session) -> int:
    """Delete the replay guard's database memory past its time (written only while Redis was down)."""
    return nonces.forget_expired(session)
