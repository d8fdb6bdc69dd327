"""WeChat Work template-card buttons: features register a handler per key prefix (EventKey "alarm:ack:12" goes
to the "alarm" handler); /wecom dispatches the clicks here and shows the staff member the text returned."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)
CardAction = Callable[[str, str], str]
_actions: dict[str, CardAction] = {}
UNKNOWN = "这个按钮已失效，请在物业后台处理。"


def add_card_action(prefix: str, fn: CardAction) -> None:
    """Handle clicks whose key starts with "<prefix>:"; fn(userid, key) returns the text to show back."""
    if not prefix or ":" in prefix:
        raise ValueError("a prefix is one word without ':'")
    _actions[prefix] = fn


def dispatch(userid: str, key: str) -> str:
    """Run the handler of a clicked button's key; the text to show the staff member."""
    fn = _actions.get((key or "").split(":", 1)[0])
    if fn is None:
        log.info("wecom card: no handler for key %r", key)
        return UNKNOWN
    return fn(userid, key)
