"""/wecom: the WeChat Work app's callback URL, so staff can answer an escalation by quoting its number.

A staff member writes "#12 师傅下午到" in the WeChat Work app; the reply goes to the resident exactly as
one sent from the console. Needs WECOM_TOKEN, WECOM_AES_KEY and WECOM_CORP_ID; without them /wecom is a 404.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.enterprise.replies import TextReply
from wechatpy.exceptions import InvalidSignatureException

from app.community.models import Staff
from app.core.db import db
from app.core.errors import AppError
from app.core.redis_conn import get_redis
from app.escalations import escalations
from app.wechat import card_actions
from app.wechat.inbound import MAX_BODY, bad_signature, bad_xml

log = logging.getLogger(__name__)
bp = Blueprint("wecom", __name__)
QUOTE = re.compile(r"^\s*[#＃]\s*(\d{1,9})\s*[:：,，]?\s*(.+)$", re.S)
DEDUP_SECONDS = 24 * 3600
HOW_TO = "请以转人工编号开头回复住户，例如：#12 师傅下午两点上门"


def _crypto() -> WeChatCrypto:
    config = current_app.config
    if not all(config.get(k) for k in ("WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_CORP_ID")):
        abort(404)
    return WeChatCrypto(config["WECOM_TOKEN"], config["WECOM_AES_KEY"], config["WECOM_CORP_ID"])


@bp.get("/wecom")
def verify() -> Response:
    """WeChat Work's URL check: decrypt echostr and send it back."""
    crypto, args = _crypto(), request.args
    try:
        echo = crypto.check_signature(args.get("msg_signature", ""), args.get("timestamp", ""),
                                      args.get("nonce", ""), args.get("echostr", ""))
    except InvalidSignatureException as exc:
        raise bad_signature("wecom echostr") from exc
    except Exception as exc:  # bad base64 or padding: bad input
        raise bad_xml(f"wecom echostr: {type(exc).__name__}") from exc
    return Response(echo, mimetype="text/plain")


@bp.post("/wecom")
def receive() -> Response:
    """A message from a staff member in the WeChat Work app."""
    crypto, args = _crypto(), request.args
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise bad_xml("wecom body too large")
    nonce, timestamp = args.get("nonce", ""), args.get("timestamp", "")
    try:
        plain = crypto.decrypt_message(body.decode("utf-8", "replace"), args.get("msg_signature", ""),
                                       timestamp, nonce)
        message = parse_message(plain)
    except (InvalidSignatureException, InvalidCorpIdException) as exc:
        raise bad_signature(type(exc).__name__) from exc
    except Exception as exc:  # garbage XML, bad base64, a DTD: all bad input
        raise bad_xml(f"wecom: {type(exc).__name__}") from exc
    if _card_event(message):
        return _card_click(crypto, message, nonce, timestamp)
    if getattr(message, "type", "") != "text":
        return Response("success", mimetype="text/plain")
    msg_id = str(getattr(message, "id", "") or "")
    if msg_id and not get_redis(current_app).set(f"wecom:msg:{msg_id}", 1, nx=True, ex=DEDUP_SECONDS):
        return Response("success", mimetype="text/plain")  # WeChat Work's retry: answered already
    text = _answer(message.source, message.content or "")
    reply = TextReply(source=message.target, target=message.source, content=text).render()
    return Response(crypto.encrypt_message(reply, nonce, timestamp), mimetype="application/xml")


def _answer(userid: str, content: str) -> str:
    """Send the quoted escalation's resident the staff member's words; the text to show the staff member."""
    staff = db.session.scalar(select(Staff).where(Staff.wecom_userid == userid, Staff.active.is_(True)))
    if staff is None:
        return "您的企业微信账号还没有关联物业后台账号，请联系管理员。"
    quoted = QUOTE.match(content)
    if quoted is None:
        return HOW_TO
    escalation_id, text = int(quoted.group(1)), quoted.group(2).strip()
    try:
        escalations.reply(db.session, escalation_id, staff, text)
        db.session.commit()
    except AppError as err:
        db.session.rollback()
        return f"未发送：{err.message}"
    log.info("wecom: %s answered escalation %s", staff.username, escalation_id)
    return f"已发送给住户（#{escalation_id}），送达情况可在物业后台查看。"


def _card_event(message) -> bool:
    data = getattr(message, "_data", None) or {}
    return str(data.get("MsgType", "")).lower() == "event" and str(data.get("Event", "")).lower() == \
        "template_card_event"


def _card_click(crypto: WeChatCrypto, message, nonce: str, timestamp: str) -> Response:
    """A template-card button click: the feature that owns the key's prefix answers (once per click)."""
    data = message._data
    userid, key = str(data.get("FromUserName") or ""), str(data.get("EventKey") or "")
    click = f"wecom:card:{userid}:{data.get('CreateTime')}:{key}"[:200]
    if not get_redis(current_app).set(click, 1, nx=True, ex=DEDUP_SECONDS):
        return Response("success", mimetype="text/plain")
    text = card_actions.dispatch(userid, key)
    reply = TextReply(source=message.target, target=userid, content=text).render()
    return Response(crypto.encrypt_message(reply, nonce, timestamp), mimetype="application/xml")
