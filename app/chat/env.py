"""What the chat core may know of its surroundings, handed in by the entry point.

Services never read Flask's globals (house style): the WeChat endpoint, the mini-program view and
the worker each build a ChatEnv from their app and pass it down to the flows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChatEnv:
    """Settings (the app's config) and the Redis client, for flows that need them."""

    settings: Mapping[str, Any] = field(default_factory=dict)
    redis: Any = None


def env_of(app: Any) -> ChatEnv:
    """The ChatEnv of a Flask app."""
    from app.core.redis_conn import get_redis  # noqa: PLC0415 - keeps this module free of Flask imports

    return ChatEnv(settings=app.config, redis=get_redis(app))
