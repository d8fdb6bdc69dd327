"""Checks on every request to /wechat: size, encoding, hostile XML, signature, clock window, replays."""

from __future__ import annotations

import hashlib
import logging

import redis
from sqlalchemy.exc import SQLAlchemyError
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from app.chat import nonces
from app.core.clock import unix_seconds
from app.wechat.inbound import MAX_BODY, bad_signature, bad_xml, check_body  # noqa: F401 - the door's checks

log = logging.getLogger(__name__)
CLAIM_SECONDS = 10  # a try that died mid-way frees its message for WeChat's next retry after this

def check_timestamp(timestamp: str, window: int, now: float | None = None) -> int:
    """The request's timestamp, refused when it is not within ±window seconds of now."""
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise bad_signature("timestamp missing or not a number")
    value = int(timestamp)
    now = unix_seconds() if now is None else now
    if abs(now - value) > window:
        raise bad_signature(f"timestamp {value} outside ±{window}s")
    return value


def check_plain_signature(token: str, signature: str, timestamp: str, nonce: str) -> None:
    """Plain mode: sha1(sorted(token, timestamp, nonce)) must equal signature."""
    if not (signature and nonce):
        raise bad_signature("signature or nonce missing")
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        raise bad_signature("signature mismatch") from exc


class ReplayUnchecked(Exception):
    """Neither Redis nor the database could check a plain-mode request for replay: the message is
    journaled with what the check needs, and checked when the database is back."""

    def __init__(self, key: str, digest: str, ttl: int) -> None:
        super().__init__(key)
        self.key, self.digest, self.ttl = key, digest, ttl


def check_replay(conn: redis.Redis, *, nonce: str, timestamp: str, signature: str, body: bytes,
                 window: int, fail_open: bool, claim: str | None = None) -> tuple[bool, bool | None]:
    """Remember (nonce, timestamp, signature) with the body's hash; returns (WeChat's own retry?, claimed?).

    WeChat retries a message with the same query string and the same body: that is let through
    (dedup then gives the same reply). The same signed query with another body is a replay: 403.
    claim: the message's dedup claim key, taken in the same Redis round trip (claimed is None when
    Redis could not be asked: the caller treats the message as unclaimed by anyone else).
    While Redis is down the database remembers instead (plain mode; safe mode signs the body, so a
    replay could only repeat the same message). With both down, ReplayUnchecked.
    """
    signed = hashlib.sha256(f"{nonce}\n{timestamp}\n{signature}".encode()).hexdigest()
    key = f"wechat:nonce:{signed}"
    digest = hashlib.sha256(body).hexdigest()
    ttl = max(60, min(2 * window, 86400))
    try:
        with conn.pipeline(transaction=False) as pipe:
            pipe.set(key, digest, nx=True, ex=ttl)
            pipe.get(key)
            if claim:
                pipe.set(claim, 1, nx=True, ex=CLAIM_SECONDS)
            results = pipe.execute()
    except redis.RedisError as exc:
        if fail_open:
            log.error("wechat: replay guard unavailable, continuing in safe mode: %s", exc)
            return False, None
        log.warning("wechat: replay guard on the database while Redis is unavailable: %s", exc)
        return _check_in_database(signed, digest, ttl), None
    first, seen = bool(results[0]), results[1]
    claimed = bool(results[2]) if claim else None
    if first or seen is None:  # new, or expired in between
        return False, claimed
    if seen.decode() == digest:  # WeChat's retry
        return True, claimed
    if claimed and claim:
        conn.delete(claim)  # the forged message must not hold a claim on a message id
    raise bad_signature("nonce reused with a different body")


def _check_in_database(signed: str, digest: str, ttl: int) -> bool:
    try:
        verdict = nonces.remember(signed, digest, ttl)
    except SQLAlchemyError as exc:
        log.error("wechat: replay guard unavailable on Redis and the database: %s", exc)
        raise ReplayUnchecked(signed, digest, ttl) from exc
    if verdict == nonces.REPLAY:
        raise bad_signature("nonce reused with a different body")
    return verdict == nonces.RETRY
