"""/wechat: the official account's server URL. GET verifies, POST receives messages and replies."""

from __future__ import annotations

import logging
from xml.parsers.expat import ExpatError

from flask import Blueprint, Response, current_app, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

from app.core.clock import local_now
from app.core.db import db
from app.core.redis_conn import get_redis
from bots.dispatch import NotStored, answer, claim_key
from bots.drain import JOURNALED, keep, resume_once
from bots.registry import BadInbound, Inbound
from bots.security import (
    MAX_BODY,
    ReplayUnchecked,
    bad_signature,
    bad_xml,
    check_body,
    check_plain_signature,
    check_replay,
    check_timestamp,
)

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)
CHANNEL = "oa"
_PARSE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError, ExpatError, BadInbound)


@bp.get("/wechat")
def verify() -> Response:
    """WeChat's server-URL check: echo echostr back when the signature is ours."""
    args = request.args
    check_plain_signature(current_app.config["WECHAT_TOKEN"], args.get("signature", ""),
                          args.get("timestamp", ""), args.get("nonce", ""))
    return Response(args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def receive() -> Response:
    """One message from WeChat, in plain or safe mode; replies in the same mode."""
    config = current_app.config
    args = request.args
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise bad_xml(f"Content-Length {request.content_length}")
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    check_timestamp(timestamp, config["WECHAT_TIMESTAMP_WINDOW"])
    crypto = _crypto()
    if crypto is None:
        signature = args.get("signature", "")
        check_plain_signature(config["WECHAT_TOKEN"], signature, timestamp, nonce)
    body = request.stream.read(MAX_BODY + 1)
    text = check_body(body)
    if crypto is not None:
        signature = args.get("msg_signature", "")
        if args.get("encrypt_type") != "aes" or not signature or not nonce:
            raise bad_signature("safe mode expects encrypt_type=aes and msg_signature")
        text = _decrypt(crypto, text, signature, timestamp, nonce)
    inbound = _parse(text)
    conn = get_redis(current_app)
    unchecked, claimed = None, None
    try:  # the replay guard and the dedup claim go to Redis in one round trip
        _retry, claimed = check_replay(conn, nonce=nonce, timestamp=timestamp, signature=signature, body=body,
                                       window=config["WECHAT_TIMESTAMP_WINDOW"], fail_open=crypto is not None,
                                       claim=claim_key(inbound.dedup_key))
    except ReplayUnchecked as exc:  # Redis and the database both down: checked when the journal drains
        unchecked = exc

    resume_once(current_app._get_current_object())
    try:
        if unchecked is not None:
            raise NotStored(inbound.dedup_key)
        reply = answer(db.session, inbound, int(config["WECHAT_REPLY_BUDGET_MS"]), conn, claimed=claimed)
    except NotStored:
        keep(current_app._get_current_object(), inbound, unchecked)
        reply = JOURNALED
    return _render(reply, inbound, crypto, nonce)


def _crypto() -> WeChatCrypto | None:
    config = current_app.config
    if not config.get("WECHAT_AES_KEY"):
        return None
    return WeChatCrypto(config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APP_ID"])


def _decrypt(crypto: WeChatCrypto, text: str, signature: str, timestamp: str, nonce: str) -> str:
    """The decrypted message; 403 when msg_signature or the app id is wrong, 400 for garbage."""
    try:
        plain = crypto.decrypt_message(text, signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise bad_signature(type(exc).__name__) from exc
    except Exception as exc:  # bad XML around Encrypt, bad base64, bad padding: all bad input
        raise bad_xml(f"cannot decrypt: {type(exc).__name__}") from exc
    return check_body(plain if isinstance(plain, bytes) else plain.encode("utf-8"))


def _parse(text: str) -> Inbound:
    try:
        message = parse_message(text)
        if message is None:
            raise BadInbound("empty")
        return Inbound.from_fields(message._data, channel=CHANNEL, now=local_now())
    except _PARSE_ERRORS as exc:
        raise bad_xml(f"{type(exc).__name__}: {exc}"[:200]) from exc


def _render(reply: str | None, inbound: Inbound, crypto: WeChatCrypto | None, nonce: str) -> Response:
    """A passive text reply (encrypted in safe mode), or the plain string `success`."""
    if not reply:
        return Response("success", mimetype="text/plain")
    xml = TextReply(source=inbound.account, target=inbound.openid, content=reply).render()
    if crypto is not None:
        xml = crypto.encrypt_message(xml, nonce)
    return Response(xml, mimetype="application/xml")
