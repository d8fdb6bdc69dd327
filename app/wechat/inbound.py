"""Checks shared by every door WeChat posts to (/wechat, /wecom): body size, hostile XML, and the
one 403 and one 400 they answer."""

from __future__ import annotations

import logging
import re

from app.core.errors import BadRequest, Forbidden

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
# A DTD is where every XML bomb and external entity lives; WeChat never sends one.
_HOSTILE = re.compile(rb"<!\s*(doctype|entity|element|attlist)", re.IGNORECASE)


def bad_signature(reason: str) -> Forbidden:
    """The one 403 for unsigned, forged, stale or replayed requests (the reason goes to the log)."""
    log.warning("wechat: rejected request: %s", reason)
    return Forbidden("签名校验失败", code="bad_signature")


def bad_xml(reason: str) -> BadRequest:
    """The one 400 for bodies that are not a WeChat message."""
    log.warning("wechat: bad body: %s", reason)
    return BadRequest("消息格式不正确", code="bad_xml")


def check_body(body: bytes) -> str:
    """The body as text, refusing oversize, DTD-carrying and non-UTF-8 bodies before any parsing."""
    if len(body) > MAX_BODY:
        raise bad_xml(f"body over {MAX_BODY} bytes")
    if not body.strip():
        raise bad_xml("empty body")
    if _HOSTILE.search(body):
        raise bad_xml("DTD or entity declaration")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_xml("not UTF-8") from exc
