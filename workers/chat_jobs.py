"""Answers that did not fit WeChat's reply budget: run the chat core, send a customer-service message."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from app.errors import WeChatError
from app.models import Conversation, Message
from app.services import chat
from app.services.chat_env import env_of
from app.services.conversations import message_by_dedup_key, record_outbound
from app.wechat import send_customer_text
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
