"""Login rate limit: failures are counted per username and IP in Redis for a fixed window."""

from __future__ import annotations

import hashlib
import logging

from flask import Flask
from redis.exceptions import RedisError

from app.core.errors import RateLimited
from app.core.redis_conn import get_redis

MAX_FAILURES = 5
WINDOW_SECONDS = 600
log = logging.getLogger(__name__)


def _key(username: str, ip: str) -> str:
    # Hashed so odd usernames cannot shape Redis keys; lower-cased so case changes share a counter.
    digest = hashlib.sha256(f"{username.strip().lower()}\0{ip}".encode()).hexdigest()[:32]
    return f"console:login-failures:{digest}"


def check_allowed(app: Flask, username: str, ip: str) -> None:
    """Raise RateLimited when this username+IP already failed MAX_FAILURES times in the window."""
    try:
        failures = int(get_redis(app).get(_key(username, ip)) or 0)
    except RedisError as exc:  # the password check still protects; a Redis outage must not lock staff out
        log.warning("login rate limit unavailable: %s", exc)
        return
    if failures >= MAX_FAILURES:
        minutes = WINDOW_SECONDS // 60
        raise RateLimited(f"登录失败次数太多，请 {minutes} 分钟后再试", code="login_rate_limited")


def record_failure(app: Flask, username: str, ip: str) -> int:
    """Count one failed login; returns the failures so far in the window (0 if Redis is down)."""
    key = _key(username, ip)
    try:
        pipe = get_redis(app).pipeline()
        pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)  # the window starts at the first failure
        pipe.incr(key)
        _, failures = pipe.execute()
        return int(failures)
    except RedisError as exc:
        log.warning("login rate limit unavailable: %s", exc)
        return 0


def clear_failures(app: Flask, username: str, ip: str) -> None:
    """Forget the failures of a username+IP after a successful login."""
    try:
        get_redis(app).delete(_key(username, ip))
    except RedisError as exc:
        log.warning("login rate limit unavailable: %s", exc)
