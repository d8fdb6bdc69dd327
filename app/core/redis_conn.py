"""The Redis connection: a real server when REDIS_URL is set, otherwise an in-memory stand-in."""

from __future__ import annotations

import fakeredis
import redis
from flask import Flask


def make_redis(url: str | None) -> redis.Redis:
    """A Redis client for URL, or a fakeredis one (its own server) when URL is empty."""
    if url:
        return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


def init_redis(app: Flask) -> None:
    """Attach the app's Redis client as app.extensions['redis']."""
    app.extensions["redis"] = make_redis(app.config.get("REDIS_URL"))


def get_redis(app: Flask) -> redis.Redis:
    """The Redis client the app was built with."""
    return app.extensions["redis"]
