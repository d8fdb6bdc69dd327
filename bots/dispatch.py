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
    touch_inbound,
)
from app.chat.models import Conversation, Message
from app.core.errors import AppError
from app.core.outbox import enqueue
from bots.registry import Inbound, lookup

log = logging.getLogger(__name__)

REPLY_LATER_JOB = "app.chat.jobs.reply_later"
SORRY = "抱歉，系统出了点问题，请稍后再发一次。"
CLAIM_SECONDS = 10  # a try that died mid-way frees its message for WeChat's next retry after this
WAIT_FOR_FIRST_TRY = 4.0  # a retry racing the first try waits this long for the stored reply
_POLL = 0.05


class _Missing:
    """No stored message under the dedup key (yet)."""


MISSING = _Missing()


def answer(session: Session, inbound: Inbound, budget_ms: int, conn: redis.Redis | None = None) -> str | None:
    """The reply to one inbound message (None = reply `success`); commits the handling.

    A retried message (same dedup key) gets the reply stored the first time and changes nothing.
    """
    inbound.session = session
    key = inbound.dedup_key
    try:
        if not _claim(conn, key):  # a retry, or the same message racing in on another thread
            stored = _stored_reply(session, key, wait=WAIT_FOR_FIRST_TRY)
            if stored is not MISSING:
                log.info("wechat: retry of %s answered from the stored reply", key)
                return stored
            log.warning("wechat: %s claimed but never stored; handling it again", key)
        return _handle(session, inbound, budget_ms)
    except IntegrityError:
        session.rollback()
        stored = _stored_reply(session, key, wait=0)
        if stored is not MISSING:  # a concurrent try committed first: its answer is the answer
            log.info("dedup: a concurrent request stored %s first", key)
            return stored
        log.exception("wechat: handling %s failed", key)
        return SORRY
    except Exception:
        session.rollback()
        log.exception("wechat: handling %s failed", key)
        return SORRY  # not stored: WeChat's retry tries again
    finally:
        forget_inbound(session)


def _handle(session: Session, inbound: Inbound, budget_ms: int) -> str | None:
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
            return _store_only(session, inbound, err.message)
    message.reply = reply
    session.add(message)
    session.commit()
    return reply


def _store_only(session: Session, inbound: Inbound, reply: str) -> str:
    """Log the message with a reply and nothing else (after a handler refused it)."""
    _conversation, message = _begin(session, inbound)
    message.reply = reply
    session.add(message)
    session.commit()
    return reply


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


def _claim(conn: redis.Redis | None, key: str) -> bool:
    """True when this try is the first to take the message; Redis being down counts as yes."""
    if conn is None:
        return True
    try:
        return bool(conn.set(f"wechat:claim:{key}", 1, nx=True, ex=CLAIM_SECONDS))
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
