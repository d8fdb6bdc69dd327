"""Where features step into a chat turn without the chat core importing them.

The chat core runs a turn in this order: interceptors (a conversation staff hold, safety words, a
request for a person), then, when an interceptor answered a safety word, the safety reactions;
early replies (a car owner's 已处理); the dialog (flows and one-turn answers); greeting; and at
last the fallbacks, before the help menu. A feature registers its functions at init_app; the
same function registered again replaces itself, so a second app changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.chat.env import ChatEnv
from app.chat.models import Conversation
from app.community.models import Resident

# (session, conversation, text, now, parsed) -> a reply that ends the turn, or None
Interceptor = Callable[[Session, Conversation, str, datetime, Any], str | None]
# (session, conversation, resident, word, text, parsed, now, env) -> None: act on a safety word (or on
# app.core.words.EMERGENCY when the parser heard a person in danger without one)
SafetyReaction = Callable[[Session, Conversation, Resident | None, str, str, Any, datetime, ChatEnv], None]
# (session, resident, text, now) -> a reply before the dialog, or None
EarlyReply = Callable[[Session, Resident | None, str, datetime], str | None]
# (session, conversation, resident, text, now, weak) -> a last answer before the help menu, or None;
# weak: the parser found no request it is sure of
Fallback = Callable[[Session, Conversation, Resident | None, str, datetime, bool], str | None]

_interceptors: dict[str, Interceptor] = {}
_safety: dict[str, SafetyReaction] = {}
_early: dict[str, EarlyReply] = {}
_fallbacks: dict[str, tuple[int, Fallback, bool]] = {}


def _key(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def add_interceptor(fn: Interceptor) -> None:
    """Run fn first in every turn; a reply it gives ends the turn."""
    _interceptors[_key(fn)] = fn


def add_safety_reaction(fn: SafetyReaction) -> None:
    """Run fn when an interceptor answered a message that names a safety word."""
    _safety[_key(fn)] = fn


def add_early_reply(fn: EarlyReply) -> None:
    """Ask fn before the dialog; a reply it gives ends the turn."""
    _early[_key(fn)] = fn


def add_fallback(position: int, fn: Fallback, *, with_parse: bool = False) -> None:
    """Ask fn (lower positions first) when nothing else answered, before the help menu; with_parse: fn also
    takes the turn's parse (nlp Parse or None) as a last argument."""
    _fallbacks[_key(fn)] = (position, fn, with_parse)


def intercept(session: Session, conversation: Conversation, text: str, now: datetime, parsed: Any) -> str | None:
    """The first interceptor's reply, if any."""
    for fn in _interceptors.values():
        reply = fn(session, conversation, text, now, parsed)
        if reply is not None:
            return reply
    return None


def react_to_safety(session: Session, conversation: Conversation, resident: Resident | None, word: str, text: str,
                    parsed: Any, now: datetime, env: ChatEnv) -> None:
    """Let every safety reaction act on the word."""
    for fn in _safety.values():
        fn(session, conversation, resident, word, text, parsed, now, env)


def early_reply(session: Session, resident: Resident | None, text: str, now: datetime) -> str | None:
    """The first early reply, if any."""
    for fn in _early.values():
        reply = fn(session, resident, text, now)
        if reply is not None:
            return reply
    return None


def fallback(session: Session, conversation: Conversation, resident: Resident | None, text: str, now: datetime,
             weak: bool, parsed: Any = None) -> str | None:
    """The first fallback's answer, if any."""
    for _, fn, with_parse in sorted(_fallbacks.values(), key=lambda entry: entry[0]):
        args = (session, conversation, resident, text, now, weak)
        reply = fn(*args, parsed) if with_parse else fn(*args)
        if reply is not None:
            return reply
    return None
