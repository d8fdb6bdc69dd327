"""Login rate limit, per username at an address and per address, that holds when attempts race.

Each attempt is counted *before* its password is checked, atomically against both limits, so parallel
attempts cannot all pass a check made before any of them had failed: in a window at most MAX_FAILURES
passwords of one username from one address are checked, and at most MAX_FAILURES_PER_IP of any usernames
from one address. A right password gives its count back (the username's count is forgotten, the address's
lowered by one), so only failures add up. The counters live in Redis (WATCH/MULTI: the check and the
increment are one step); while Redis is down they live in the database (`LoginThrottle` rows, locked while
counted and committed by the view before the password is checked), so staff can still sign in and guessing
stays limited.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import redis
from flask import Flask
from redis.exceptions import RedisError, WatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.community.models import LoginThrottle
from app.core.clock import utcnow
from app.core.db import insert_once
from app.core.errors import RateLimited
from app.core.redis_conn import get_redis

MAX_FAILURES = 5  # one username from one address
MAX_FAILURES_PER_IP = 20  # one address, whatever the usernames (an office behind one NAT shares it)
WINDOW_SECONDS = 600
PREFIX = "console:login-failures:"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """One login attempt, counted: its two counters, where they live, and the counts including it."""

    account_key: str
    address_key: str
    backend: str  # redis | database
    account_failures: int
    address_failures: int

    @property
    def left(self) -> int:
        """Attempts left, should this one fail, before this username or this address is refused."""
        return max(0, min(MAX_FAILURES - self.account_failures, MAX_FAILURES_PER_IP - self.address_failures))


def _digest(*parts: str) -> str:
    # Hashed so odd usernames cannot shape Redis keys or rows, and no username is stored.
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _keys(username: str, ip: str) -> tuple[str, str]:
    # Lower-cased so case changes share a counter.
    return f"{PREFIX}{_digest(username.strip().lower(), ip)}", f"{PREFIX}ip:{_digest(ip)}"


def _refusal(account: int, address: int) -> RateLimited | None:
    minutes = WINDOW_SECONDS // 60
    if account >= MAX_FAILURES:
        return RateLimited(f"登录失败次数太多，请 {minutes} 分钟后再试", code="login_rate_limited")
    if address >= MAX_FAILURES_PER_IP:
        return RateLimited(f"这个网络的登录失败次数太多，请 {minutes} 分钟后再试", code="login_rate_limited")
    return None


def count_attempt(app: Flask, session: Session, username: str, ip: str) -> Attempt:
    """Count a login attempt before its password is checked; RateLimited (nothing counted) past a limit.

    When Redis is down the count is made in the database through session: the caller commits it before
    checking the password, so parallel attempts see it."""
    account_key, address_key = _keys(username, ip)
    try:
        counts = _count_in_redis(get_redis(app), account_key, address_key)
        backend = "redis"
    except RedisError as exc:
        log.warning("login rate limit: Redis unavailable, counting in the database: %s", exc)
        counts = _count_in_database(session, account_key, address_key)
        backend = "database"
    refusal = _refusal(*counts)
    if refusal is not None:
        raise refusal
    return Attempt(account_key, address_key, backend, counts[0] + 1, counts[1] + 1)


def forgive(app: Flask, session: Session, attempt: Attempt) -> None:
    """The password was right: this attempt was no failure, and the username's failures are forgotten.

    A database-counted attempt is forgiven through session (the caller commits)."""
    if attempt.backend == "database":
        _forgive_in_database(session, attempt)
        return
    try:
        _forgive_in_redis(get_redis(app), attempt)
    except RedisError as exc:  # the counts expire with their window
        log.warning("login rate limit unavailable: %s", exc)


# ---- Redis ----------------------------------------------------------------------------------------

def _count_in_redis(r: redis.Redis, account_key: str, address_key: str) -> tuple[int, int]:
    """The counts before this attempt; both are incremented, in one transaction, only if neither is at its
    limit. WATCH makes the read and the increment one step: a transaction that raced another is retried."""
    keys = (account_key, address_key)
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(*keys)
                account, address = (int(pipe.get(key) or 0) for key in keys)
                if _refusal(account, address) is not None:
                    pipe.unwatch()
                    return account, address
                pipe.multi()
                for key in keys:
                    pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)  # the window starts at the first attempt
                    pipe.incr(key)
                pipe.execute()
                return account, address
            except WatchError:
                continue  # another attempt counted first: read again


def _forgive_in_redis(r: redis.Redis, attempt: Attempt) -> None:
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(attempt.address_key)
                address = int(pipe.get(attempt.address_key) or 0)
                pipe.multi()
                pipe.delete(attempt.account_key)
                if address > 0:
                    pipe.decr(attempt.address_key)
                    pipe.expire(attempt.address_key, WINDOW_SECONDS, nx=True)  # never a counter without an end
                pipe.execute()
                return
            except WatchError:
                continue


# ---- the database, while Redis is down -------------------------------------------------------------

def _count_in_database(session: Session, account_key: str, address_key: str) -> tuple[int, int]:
    """As in Redis, on LoginThrottle rows locked until the caller commits (in key order: no deadlock)."""
    now = utcnow()
    window_end = now + timedelta(seconds=WINDOW_SECONDS)
    keys = sorted((account_key, address_key))
    for key in keys:
        if session.get(LoginThrottle, key) is None:
            insert_once(session, LoginThrottle(key=key, attempts=0, window_ends_at=window_end))
    rows = {row.key: row for row in session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_(keys)).order_by(LoginThrottle.key)
        .with_for_update().execution_options(populate_existing=True))}
    for row in rows.values():
        if row.window_ends_at <= now:  # the window is over: start a new one
            row.attempts, row.window_ends_at = 0, window_end
    account, address = rows[account_key].attempts, rows[address_key].attempts
    if _refusal(account, address) is None:
        for row in rows.values():
            row.attempts += 1
    session.flush()
    return account, address


def _forgive_in_database(session: Session, attempt: Attempt) -> None:
    session.execute(update(LoginThrottle).where(LoginThrottle.key == attempt.account_key).values(attempts=0)
                    .execution_options(synchronize_session=False))
    session.execute(update(LoginThrottle)
                    .where(LoginThrottle.key == attempt.address_key, LoginThrottle.attempts > 0)
                    .values(attempts=LoginThrottle.attempts - 1).execution_options(synchronize_session=False))
    session.flush()
