"""From a checked inbound message to its reply: dedup, the registry, the reply budget, the commit.

The hot path is kept short because every resident message takes it: a Redis claim on the dedup
key spots WeChat's retries before any SQL; one joined read loads the conversation and resident;
the inbound message is written once, reply included, in the same commit as the handler's work.
The message's unique dedup key stays the authority: when two tries race past the claim, the
second one's commit fails on it, its work is rolled back, and it answers the stored reply.
"""

from __future__ import annotations

import logging
import time

import redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.chat.conversations import (
    forget_inbound,
    get_conversation,
    message_by_dedup_key,
    new_inbound,
    record_outbound,
    touch_inbound,
)
from app.chat.models import Conversation, Message
from app.core.errors import AppError, unavailable
from app.core.outbox import enqueue
from bots.registry import Inbound, lookup
from bots.security import CLAIM_SECONDS

log = logging.getLogger(__name__)

REPLY_LATER_JOB = "app.chat.jobs.reply_later"
SEND_TEXT_JOB = "app.chat.jobs.send_text"
SORRY = "抱歉，系统出了点问题，请稍后再发一次。"
WAIT_FOR_FIRST_TRY = 4.0  # a retry racing the first try waits this long for the stored reply
_POLL = 0.05


class NotStored(Exception):
    """The message could not be recorded (the database is down): the endpoint journals it instead of
    answering 200 for a message nobody kept."""


def database_down(exc: BaseException) -> bool:
    """Whether an exception means the database cannot be reached."""
    found = unavailable(exc)
    return found is not None and found.code == "database_unavailable"


class _Missing:
    """No stored message under the dedup key (yet)."""


MISSING = _Missing()


def answer(session: Session, inbound: Inbound, budget_ms: int, conn: redis.Redis | None = None,
           claimed: bool | None = None) -> str | None:
    """The reply to one inbound message (None = reply `success`); commits the handling.

    A retried message (same dedup key) gets the reply stored the first time and changes nothing.
    claimed: the outcome of the dedup claim when the caller made it (with the replay guard, in one
    Redis round trip); None to make it here. Raises NotStored when the message could not be recorded.
    """
    inbound.session = session
    key = inbound.dedup_key
    try:
        if claimed is None:
            claimed = _claim(conn, key)
        if not claimed:  # a retry, or the same message racing in on another thread
            stored = _stored_reply(session, key, wait=WAIT_FOR_FIRST_TRY)
            if stored is not MISSING:
                log.info("wechat: retry of %s answered from the stored reply", key)
                return stored
            log.warning("wechat: %s claimed but never stored; handling it again", key)
        return _handle(session, inbound, budget_ms)
    except IntegrityError:
        session.rollback()
        return _after_conflict(session, inbound)
    except Exception as exc:
        session.rollback()
        if database_down(exc):
            raise NotStored(key) from exc
        log.exception("wechat: handling %s failed", key)
        return _apologise(session, inbound)
    finally:
        forget_inbound(session)


def handle_late(session: Session, inbound: Inbound) -> str | None:
    """Handle a message that waited in the journal: store it and its reply in one commit, and send the
    reply as a customer-service message (the resident was told we would answer here). Raises NotStored
    while the database is still down; IntegrityError means it was stored meanwhile."""
    inbound.session = session
    try:
        return _handle(session, inbound, budget_ms=LATE_BUDGET_MS, late=True)
    except IntegrityError:
        session.rollback()
        raise
    except Exception as exc:
        session.rollback()
        if database_down(exc):
            raise NotStored(inbound.dedup_key) from exc
        log.exception("wechat: late handling of %s failed", inbound.dedup_key)
        return _apologise(session, inbound, late=True)
    finally:
        forget_inbound(session)


LATE_BUDGET_MS = 60_000  # a journaled message is answered by customer-service message: no 5 s limit


def _after_conflict(session: Session, inbound: Inbound) -> str | None:
    stored = _stored_reply(session, inbound.dedup_key, wait=0)
    if stored is not MISSING:  # a concurrent try committed first: its answer is the answer
        log.info("dedup: a concurrent request stored %s first", inbound.dedup_key)
        return stored
    log.error("wechat: %s conflicted but is not stored", inbound.dedup_key)
    raise NotStored(inbound.dedup_key)


def _apologise(session: Session, inbound: Inbound, *, late: bool = False) -> str:
    """A handler failed unexpectedly: keep the message with the apology (staff can see it); NotStored
    when even that cannot be written."""
    try:
        return _store_only(session, inbound, SORRY, late=late)
    except Exception as exc:
        session.rollback()
        log.exception("wechat: could not store %s", inbound.dedup_key)
        raise NotStored(inbound.dedup_key) from exc


def _handle(session: Session, inbound: Inbound, budget_ms: int, *, late: bool = False) -> str | None:
    conversation, message = _begin(session, inbound)
    inbound.conversation = conversation
    spec = lookup(inbound)
    if spec.defer(budget_ms, inbound.text):
        session.add(message)
        session.flush()
        enqueue(session, REPLY_LATER_JOB, message.id, queue="high")
        reply = None
    else:
        try:
            with session.no_autoflush:  # the conversation's changes go out once, with the message
                reply = _run(spec.func, inbound)
        except AppError as err:  # the handler's writes are undone; the message is kept with the apology
            session.rollback()
            return _store_only(session, inbound, err.message, late=late)
    message.reply = reply
    session.add(message)
    if late:
        _send_later(session, conversation, message, reply)
    session.commit()
    return reply


def _store_only(session: Session, inbound: Inbound, reply: str, *, late: bool = False) -> str:
    """Log the message with a reply and nothing else (after a handler refused it)."""
    conversation, message = _begin(session, inbound)
    message.reply = reply
    session.add(message)
    if late:
        _send_later(session, conversation, message, reply)
    session.commit()
    return reply


def _send_later(session: Session, conversation: Conversation, message: Message, reply: str | None) -> None:
    """Queue the reply to a journaled message as a customer-service text, in the message's own commit."""
    if not reply:
        return
    session.flush()
    outbound = record_outbound(session, conversation, reply, delivery="queued", dedup_key=f"reply:{message.id}",
                               payload={"in_reply_to": message.id, "journaled": True})
    enqueue(session, SEND_TEXT_JOB, conversation.openid, reply, outbound.id, queue="high",
            retries={"max": 3, "interval": [10, 30, 60]})


def _begin(session: Session, inbound: Inbound) -> tuple[Conversation, Message]:
    """The sender's conversation, touched, and the inbound message to store (not yet in the session)."""
    conversation = get_conversation(session, inbound.channel, inbound.openid)
    touch_inbound(conversation, inbound.now)
    message = new_inbound(session, conversation, msg_type=inbound.msg_type[:20], dedup_key=inbound.dedup_key,
                          content=inbound.text, wechat_msg_id=inbound.field("MsgId")[:64] or None,
                          payload=inbound.data)
    return conversation, message


def _run(func, inbound: Inbound) -> str | None:
    """Run a handler, warning when it is slow."""
    started = time.perf_counter()
    reply = func(inbound)
    elapsed = (time.perf_counter() - started) * 1000
    if elapsed > 1000:
        log.warning("wechat: handler for %s took %.0f ms", inbound.key, elapsed)
    return reply


def claim_key(dedup_key: str) -> str:
    """The Redis key a try takes to be the one that handles a message."""
    return f"wechat:claim:{dedup_key}"


def _claim(conn: redis.Redis | None, key: str) -> bool:
    """True when this try is the first to take the message; Redis being down counts as yes."""
    if conn is None:
        return True
    try:
        return bool(conn.set(claim_key(key), 1, nx=True, ex=CLAIM_SECONDS))
    except redis.RedisError as exc:  # the unique key in the database still stops a second effect
        log.warning("wechat: dedup claim unavailable: %s", exc)
        return True


def _stored_reply(session: Session, key: str, *, wait: float) -> str | None | _Missing:
    """The reply stored with the message under key, waiting up to `wait` s for it to be committed."""
    deadline = time.monotonic() + wait
    while True:
        message = message_by_dedup_key(session, key)
        if message is not None:
            reply = message.reply
            session.rollback()
            return reply
        session.rollback()
        if time.monotonic() >= deadline:
            return MISSING
        time.sleep(_POLL)
