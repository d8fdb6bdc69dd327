"""From a checked inbound message to its reply: dedup, the registry, the reply budget, the commit."""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session

from app.errors import AppError
from app.outbox import enqueue
from app.services.conversations import get_conversation, record_inbound, touch_inbound
from bots.registry import Inbound, lookup

log = logging.getLogger(__name__)

REPLY_LATER_JOB = "workers.chat_jobs.reply_later"
SORRY = "抱歉，系统出了点问题，请稍后再发一次。"


def answer(session: Session, inbound: Inbound, budget_ms: int) -> str | None:
    """The reply to one inbound message (None = reply `success`); commits the handling.

    A retried message (same dedup key) gets the reply stored the first time and changes nothing.
    """
    inbound.session = session
    try:
        conversation = get_conversation(session, inbound.channel, inbound.openid)
        message, created = record_inbound(
            session, conversation, msg_type=inbound.msg_type[:20], dedup_key=inbound.dedup_key,
            content=inbound.text, wechat_msg_id=inbound.field("MsgId")[:64] or None, payload=inbound.data,
        )
        if not created:
            reply = message.reply
            session.rollback()
            log.info("wechat: retry of %s answered from the stored reply", inbound.dedup_key)
            return reply

        inbound.conversation = conversation
        touch_inbound(conversation, inbound.now)
        spec = lookup(inbound)
        if spec.defer(budget_ms, inbound.text):
            enqueue(session, REPLY_LATER_JOB, message.id, queue="high")
            reply = None
        else:
            reply = _run(session, spec.func, inbound)
        message.reply = reply
        session.commit()
        return reply
    except Exception:
        session.rollback()
        log.exception("wechat: handling %s failed", inbound.dedup_key)
        return SORRY  # not stored: WeChat's retry tries again


def _run(session: Session, func, inbound: Inbound) -> str | None:
    """Run a handler; an AppError becomes its polite message and undoes the handler's writes."""
    started = time.perf_counter()
    try:
        with session.begin_nested():
            reply = func(inbound)
    except AppError as err:
        reply = err.message
    elapsed = (time.perf_counter() - started) * 1000
    if elapsed > 1000:
        log.warning("wechat: handler for %s took %.0f ms", inbound.key, elapsed)
    return reply
