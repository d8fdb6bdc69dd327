"""The message handler registry: @on_message("text") instead of an if/elif ladder.

Keys are WeChat message types ("text", "voice", ...) and, for events, "event:<name>"
("event:subscribe", "event:click"). Menu clicks are dispatched a second time on their
EventKey through @on_menu("menu:help").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.chat.models import Conversation

DEFAULT_MESSAGE = "*"  # a message type nobody registered (video, link, ...)
DEFAULT_EVENT = "event:*"  # an event nobody registered (template delivery reports, ...): no reply
DEFAULT_MENU = "menu:*"
MAX_DEDUP_KEY = 128


class BadInbound(ValueError):
    """The XML parsed but is not a message we can act on (missing or malformed fields)."""


@dataclass
class Inbound:
    """One message from WeChat, its raw fields checked and the conversation it belongs to."""

    channel: str
    openid: str
    key: str  # the registry key: "text", "event:subscribe", ...
    data: dict[str, Any]
    now: datetime
    session: Session | None = None
    conversation: Conversation | None = None
    account: str = ""  # ToUserName: our account, the reply's sender

    def field(self, name: str) -> str:
        """A raw XML field as text; empty when absent or not a plain value."""
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    @property
    def msg_type(self) -> str:
        """The WeChat MsgType, lower case."""
        return self.field("MsgType").lower()

    @property
    def text(self) -> str:
        """What the resident said: the text, or the speech-recognition result of a voice message."""
        if self.msg_type == "text":
            return self.field("Content")
        if self.msg_type == "voice":
            return self.field("Recognition")
        return ""

    @property
    def dedup_key(self) -> str:
        """The same for WeChat's retries of one message: MsgId, or user + time + event + key."""
        msg_id = self.field("MsgId")
        if msg_id:
            key = f"{self.channel}:m:{msg_id}"
        else:
            key = (f"{self.channel}:e:{self.openid}:{self.field('CreateTime')}:"
                   f"{self.field('Event').lower()}:{self.field('EventKey')}")
        if len(key) > MAX_DEDUP_KEY:
            key = f"{self.channel}:h:{hashlib.sha256(key.encode()).hexdigest()}"
        return key

    @classmethod
    def from_fields(cls, data: Any, *, channel: str, now: datetime) -> Inbound:
        """Check the raw fields of a parsed message; BadInbound when they cannot be acted on."""
        if not isinstance(data, dict):
            raise BadInbound("message is not an element with fields")
        inbound = cls(channel=channel, openid="", key="", data=data, now=now)
        openid, msg_type = inbound.field("FromUserName"), inbound.msg_type
        if not openid or len(openid) > 64 or not msg_type or len(msg_type) > 40:
            raise BadInbound("FromUserName or MsgType missing or malformed")
        msg_id, created = inbound.field("MsgId"), inbound.field("CreateTime")
        if not (msg_id.isdigit() or created.isdigit()):
            raise BadInbound("neither MsgId nor CreateTime")
        inbound.openid = openid
        inbound.account = inbound.field("ToUserName")
        event = inbound.field("Event").lower()
        inbound.key = f"event:{event}" if msg_type == "event" else msg_type
        return inbound


Handler = Callable[[Inbound], str | None]


@dataclass(frozen=True)
class HandlerSpec:
    """A registered handler and how long it takes.

    chat: its whole work is the chat core on inbound.text, so a worker can do it later.
    cost_ms: the time it usually needs; above the reply budget it is deferred to a worker.
    slow: always deferred, whatever the budget.
    """

    key: str
    func: Handler
    cost_ms: int = 0
    slow: bool = False
    chat: bool = False

    def defer(self, budget_ms: int, text: str) -> bool:
        """Whether to answer `success` now and send the reply from a worker."""
        return self.chat and bool(text) and (self.slow or self.cost_ms > budget_ms)


_handlers: dict[str, HandlerSpec] = {}
_menu: dict[str, Handler] = {}


def on_message(*keys: str, cost_ms: int = 0, slow: bool = False, chat: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler for message types or events (\"event:subscribe\")."""

    def register(func: Handler) -> Handler:
        for key in keys:
            _handlers[key] = HandlerSpec(key=key, func=func, cost_ms=cost_ms, slow=slow, chat=chat)
        return func

    return register


def on_menu(*keys: str) -> Callable[[Handler], Handler]:
    """Register a handler for menu clicks by EventKey (\"menu:help\")."""

    def register(func: Handler) -> Handler:
        for key in keys:
            _menu[key] = func
        return func

    return register


def lookup(inbound: Inbound) -> HandlerSpec:
    """The handler for an inbound message, falling back to the default for its kind."""
    spec = _handlers.get(inbound.key)
    if spec is not None:
        return spec
    return _handlers[DEFAULT_EVENT if inbound.key.startswith("event:") else DEFAULT_MESSAGE]


def menu_handler(event_key: str) -> Handler:
    """The handler for a menu item's EventKey, or the default one."""
    return _menu.get(event_key) or _menu[DEFAULT_MENU]


def registered() -> list[str]:
    """Every registered key, for tests and docs."""
    return sorted(_handlers)
