"""Checks on every request to /wechat: size, encoding, hostile XML, signature, clock window, replays."""

from __future__ import annotations

import hashlib
import logging

import redis
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from app.core.clock import unix_seconds
from app.core.errors import AppError
from app.wechat.inbound import MAX_BODY, bad_signature, bad_xml, check_body  # noqa: F401 - the door's checks

log = logging.getLogger(__name__)

class ReplayGuardDown(AppError):
    """Redis is unreachable, so a replayed plain-mode request could not be told from a new one."""

    code, status, message = "replay_guard_unavailable", 503, "服务暂时不可用，请稍后再试"


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


def check_replay(conn: redis.Redis, *, nonce: str, timestamp: str, signature: str, body: bytes,
                 window: int, fail_open: bool) -> bool:
    """Remember (nonce, timestamp, signature) with the body's hash; True for WeChat's own retry.

    WeChat retries a message with the same query string and the same body: that is let through
    (dedup then gives the same reply). The same signed query with another body is a replay: 403.
    """
    signed = hashlib.sha256(f"{nonce}\n{timestamp}\n{signature}".encode()).hexdigest()
    key = f"wechat:nonce:{signed}"
    digest = hashlib.sha256(body).hexdigest()
    ttl = max(60, min(2 * window, 86400))
    try:
        if conn.set(key, digest, nx=True, ex=ttl):
            return False
        seen = conn.get(key)
    except redis.RedisError as exc:
        if fail_open:  # safe mode: the body is signed, a replay can only repeat the same message
            log.error("wechat: replay guard unavailable, continuing in safe mode: %s", exc)
            return False
        log.error("wechat: replay guard unavailable: %s", exc)
        raise ReplayGuardDown() from exc
    if seen is None or seen.decode() == digest:  # expired in between, or WeChat's retry
        return seen is not None
    raise bad_signature("nonce reused with a different body")
