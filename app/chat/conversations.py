"""Conversations per WeChat user and channel, and the log of messages in and out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.chat.models import Conversation, Message
from app.community.bound import forget, remember_resident, with_address
from app.community.models import Resident
from app.core.clock import utcnow
from app.core.db import conflict_insert

log = logging.getLogger(__name__)
CHANNELS = ("oa", "wxa")


def to_naive_utc(now: datetime | None) -> datetime:
    """A datetime (aware, or naive meaning UTC) as the naive UTC the columns hold."""
    if now is None:
        return utcnow()
    if now.tzinfo is not None:
        return now.astimezone(UTC).replace(tzinfo=None)
    return now


def find_conversation(session: Session, channel: str, openid: str) -> Conversation | None:
    """The conversation of one WeChat user on one channel, if there is one.

    The endpoint and the chat core both ask within one request; the id is remembered on the
    session so the second ask is an identity-map hit, not another query. The first ask also
    loads, in the same statement, the resident bound to the openid with their household, unit and
    building (see remember_resident): a common chat turn reads the database once.
    """
    known = session.info.setdefault("conversation_ids", {})
    cached = known.get((channel, openid))
    if cached is not None:
        found = session.get(Conversation, cached)
        if found is not None:
            return found
    column = Resident.oa_openid if channel == "oa" else Resident.wxa_openid
    row = session.execute(
        select(Conversation, Resident)
        .outerjoin(Resident, and_(column == Conversation.openid, Resident.status == "active"))
        .where(Conversation.channel == channel, Conversation.openid == openid)
        .options(with_address())
    ).first()
    if row is None:
        return None
    found, resident = row
    known[(channel, openid)] = found.id
    remember_resident(session, channel, openid, resident)
    return found


def get_conversation(session: Session, channel: str, openid: str) -> Conversation:
    """The user's conversation, created on first contact (safe when two requests race: the insert
    does nothing on a conflict, and the other request's row is read instead; no savepoint)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    found = find_conversation(session, channel, openid)
    if found is not None:
        return found
    now = utcnow()
    created = session.scalars(
        conflict_insert(session, Conversation)
        .values(channel=channel, openid=openid, state="bot", dialog={}, updated_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "openid"]).returning(Conversation)
    ).first()
    if created is not None:
        session.info.setdefault("conversation_ids", {})[(channel, openid)] = created.id
        return created
    found = find_conversation(session, channel, openid)  # another request created it first
    if found is None:
        raise LookupError(f"conversation {channel}/{openid} neither created nor found")
    return found


def set_dialog(conversation: Conversation, **changes: Any) -> None:
    """Update the conversation's dialog state (a new dict, so the JSON column sees the change); nothing
    is written when nothing changes."""
    current = conversation.dialog or {}
    dialog = dict(current)
    for key, value in changes.items():
        if value is None:
            dialog.pop(key, None)
        else:
            dialog[key] = value
    if dialog != current:
        conversation.dialog = dialog


# The conversation row remembers when the user last wrote (WeChat's 48 h customer-service window) to
# this precision: a turn within a minute of the last one does not rewrite the row just for the time.
# Readers of the window keep a larger margin (app.notify.channels.WINDOW is 48 h minus 10 minutes).
TOUCH_EVERY = timedelta(minutes=1)


def touch_inbound(conversation: Conversation, now: datetime | None = None) -> None:
    """Note that the user just wrote to us (it opens WeChat's 48 h customer-service window)."""
    at = to_naive_utc(now)
    last = conversation.last_inbound_at
    if last is None or at - last >= TOUCH_EVERY or at < last:
        conversation.last_inbound_at = at


def message_by_dedup_key(session: Session, dedup_key: str) -> Message | None:
    """The message stored under a dedup key (an inbound one, or a job's outbound one)."""
    return session.scalar(select(Message).where(Message.dedup_key == dedup_key))


def record_outbound(session: Session, conversation: Conversation, text: str, *, delivery: str,
                    dedup_key: str | None = None, payload: dict | None = None) -> Message:
    """Log a message we sent (or tried to send) to the user."""
    message = Message(conversation_id=conversation.id, direction="out", msg_type="text", content=text,
                      delivery=delivery, dedup_key=dedup_key, payload=payload or {})
    session.add(message)
    session.flush()
    return message


def new_inbound(session: Session, conversation: Conversation, *, msg_type: str, dedup_key: str,
                content: str = "", wechat_msg_id: str | None = None, payload: dict | None = None) -> Message:
    """An inbound message, not yet in the session: the caller adds it once its reply is known, so it is
    written in one INSERT. Code that needs it written earlier (an escalation naming its trigger
    message) asks pending_inbound()."""
    message = Message(conversation_id=conversation.id, direction="in", msg_type=msg_type, content=content,
                      dedup_key=dedup_key, wechat_msg_id=wechat_msg_id, payload=payload or {})
    session.info["inbound_message"] = message
    return message


def note_parse(session: Session, parse: dict) -> None:
    """Keep what the parser made of the message being handled with that message (payload["parse"]), for
    staff and for measuring the parser; a message handled without a door's record keeps nothing."""
    message = session.info.get("inbound_message")
    if message is not None:
        message.payload = {**(message.payload or {}), "parse": parse}


def pending_inbound(session: Session, conversation: Conversation) -> Message | None:
    """The inbound message being handled in this session for this conversation, written now if it was not."""
    message = session.info.get("inbound_message")
    if message is None or conversation.id is None or message.conversation_id != conversation.id:
        return None
    if message not in session:
        session.add(message)
    session.flush()
    return message


def forget_inbound(session: Session) -> None:
    """The handling is over (committed or rolled back): no message is pending any more."""
    session.info.pop("inbound_message", None)


def record_inbound(session: Session, conversation: Conversation, *, msg_type: str, dedup_key: str,
                   content: str = "", wechat_msg_id: str | None = None,
                   payload: dict | None = None) -> tuple[Message, bool]:
    """Store an inbound message once; returns (message, created). A retry gets the stored one back.

    The insert is the first write of the handling, so a concurrent identical post waits on the
    unique dedup key and then finds this row, reply included, instead of acting a second time.
    Retries are rare, so the insert is tried first and the unique key does the checking.
    """
    message = Message(conversation_id=conversation.id, direction="in", msg_type=msg_type, content=content,
                      dedup_key=dedup_key, wechat_msg_id=wechat_msg_id, payload=payload or {})
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        existing = message_by_dedup_key(session, dedup_key)
        if existing is None:
            raise
        log.info("dedup: a concurrent request stored %s first", dedup_key)
        return existing, False
    session.info["inbound_message"] = message
    return message, True


def forget_residents(session: Session, transaction: Any = None) -> None:
    """Drop what this request noted on the session once its transaction ends: who is bound (remember_resident;
    "nobody" is true only as long as the transaction that read it) and the message being handled."""
    if transaction is None or transaction.parent is None:
        forget(session)
        session.info.pop("inbound_message", None)


def link_to_resident(session: Session, channel: str, openid: str, resident: Resident) -> None:
    """A user just recognised as a resident: their conversation (if any) now belongs to that resident."""
    conversation = find_conversation(session, channel, openid)
    remember_resident(session, channel, openid, resident)
    if conversation is not None:
        conversation.resident_id = resident.id
