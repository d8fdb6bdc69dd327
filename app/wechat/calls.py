"""The WeChat calls the rest of the app makes, as small functions of (app, plain values)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Flask

from app.core.errors import WeChatError
from app.wechat.factory import oa_client, wecom_client, wxa_client

# The three sends go through the clients' thin post_json (the campaign hot path), not wechatpy.
CUSTOM_SEND = "https://api.weixin.qq.com/cgi-bin/message/custom/send"
TEMPLATE_SEND = "https://api.weixin.qq.com/cgi-bin/message/template/send"
SUBSCRIBE_SEND = "https://api.weixin.qq.com/cgi-bin/message/subscribe/send"


@dataclass(frozen=True)
class WxaSession:
    """What code2session returns; session_key must stay on the server."""

    openid: str
    session_key: str
    unionid: str | None


def code_to_session(app: Flask, js_code: str) -> WxaSession:
    """Exchange a wx.login() code for the mini-program user's openid and session_key."""
    client = wxa_client(app)
    # Params as a list, not a dict: wechatpy then adds no access_token, which this call does not take.
    result = client.get("https://api.weixin.qq.com/sns/jscode2session", params=[
        ("appid", client.appid), ("secret", client.secret), ("js_code", js_code),
        ("grant_type", "authorization_code"),
    ])
    if not result.get("openid") or not result.get("session_key"):
        raise WeChatError(-1, "jscode2session answered without openid")
    return WxaSession(result["openid"], result["session_key"], result.get("unionid"))


def get_phone_number(app: Flask, code: str) -> str:
    """The verified phone number for a getPhoneNumber code (missing from wechatpy 1.8.18)."""
    result = wxa_client(app).post("https://api.weixin.qq.com/wxa/business/getuserphonenumber",
                                  data={"code": code})
    info = result.get("phone_info") or {}
    phone = info.get("purePhoneNumber") or info.get("phoneNumber")
    if not phone:
        raise WeChatError(-1, "getuserphonenumber answered without a phone number")
    return str(phone)


def send_customer_text(app: Flask, openid: str, text: str, stop: threading.Event | None = None) -> None:
    """Send a customer-service text to an official-account follower; WeChatError on failure.

    stop: shared by a batch's sends; see OfficialAccountClient.post_json.
    """
    oa_client(app).post_json(CUSTOM_SEND, {"touser": openid, "msgtype": "text", "text": {"content": text}},
                            stop)


def send_template_message(app: Flask, openid: str, template_id: str, data: dict,
                          url: str | None = None, stop: threading.Event | None = None,
                          page: str | None = None) -> None:
    """Send an official-account template message; it opens url, or a page of our mini-program."""
    body: dict = {"touser": openid, "template_id": template_id, "data": data}
    if url:
        body["url"] = url
    if page:
        body["miniprogram"] = {"appid": app.config["WXA_APP_ID"], "pagepath": page}
    oa_client(app).post_json(TEMPLATE_SEND, body, stop)


def send_subscribe_message(app: Flask, openid: str, template_id: str, data: dict,
                           page: str | None = None, stop: threading.Event | None = None) -> None:
    """Send a mini-program subscribe message (one per grant; 43101 without one)."""
    body: dict = {"touser": openid, "template_id": template_id, "data": data}
    if page:
        body["page"] = page
    wxa_client(app).post_json(SUBSCRIBE_SEND, body, stop)


def send_wecom_text(app: Flask, user_ids: list[str], text: str) -> bool:
    """Send a WeChat Work text to staff; False when WeChat Work is not configured."""
    client = wecom_client(app)
    if client is None:
        return False
    client.message.send_text(client.agent_id, user_ids, text)
    return True


WECOM_SEND = "https://qyapi.weixin.qq.com/cgi-bin/message/send"


def send_wecom_card(app: Flask, user_ids: list[str], card: dict) -> bool:
    """Send staff a WeChat Work template card (card: the template_card object, with button keys); False when
    WeChat Work is not configured or nobody is given. WeChatError on failure."""
    client = wecom_client(app)
    if client is None or not user_ids:
        return False
    client.post_json(WECOM_SEND, {"touser": "|".join(user_ids), "msgtype": "template_card",
                                  "agentid": client.agent_id, "template_card": card})
    return True
