"""`flask chat`: talk to the running /wechat endpoint exactly as WeChat would (signed, optionally encrypted)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

import click
import requests
import xmltodict
from flask import current_app
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from app.community.models import Resident
from app.core.clock import unix_seconds
from app.core.db import db

DEFAULT_URL = "http://127.0.0.1:5000/wechat"
ACCOUNT = "gh_linli_sim"
LATER = "（机器人稍后以客服消息回复）"


def cdata(text: str) -> str:
    """text inside CDATA, safe even when it contains ]]>."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_xml(openid: str, text: str, *, created: int, msg_id: int) -> str:
    """A text message as WeChat posts it."""
    return (f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType>{cdata('text')}</MsgType>"
            f"<Content>{cdata(text)}</Content><MsgId>{msg_id}</MsgId></xml>")


def event_xml(openid: str, event: str, *, created: int, key: str = "") -> str:
    """An event (subscribe, unsubscribe, CLICK) as WeChat posts it."""
    key_xml = f"<EventKey>{cdata(key)}</EventKey>" if key else ""
    return (f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><FromUserName>{cdata(openid)}</FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType>{cdata('event')}</MsgType>"
            f"<Event>{cdata(event)}</Event>{key_xml}</xml>")


def sign(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's plain-mode signature."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


@dataclass
class WeChatSimulator:
    """Posts messages to an endpoint the way WeChat's servers do and reads the replies."""

    url: str
    token: str
    app_id: str
    aes_key: str | None = None
    timeout: float = 10.0
    http: requests.Session = field(default_factory=requests.Session)

    def post(self, xml: str) -> requests.Response:
        """Sign (and in safe mode encrypt) one message and post it."""
        timestamp, nonce = str(int(unix_seconds())), secrets.token_hex(8)
        params = {"timestamp": timestamp, "nonce": nonce, "signature": sign(self.token, timestamp, nonce)}
        body = xml
        if self.aes_key:
            body = self._crypto().encrypt_message(xml, nonce, timestamp)
            params["encrypt_type"] = "aes"
            params["msg_signature"] = xmltodict.parse(body)["xml"]["MsgSignature"]
        return self.http.post(self.url, params=params, data=body.encode("utf-8"), timeout=self.timeout,
                              headers={"Content-Type": "text/xml"})

    def reply_text(self, response: requests.Response) -> str:
        """The text of the endpoint's reply; LATER when it said `success`."""
        if response.status_code != 200:
            return f"（HTTP {response.status_code}：{response.text[:200]}）"
        body = response.content.decode("utf-8")
        if body.strip() in ("", "success"):
            return LATER
        if self.aes_key:
            outer = xmltodict.parse(body)["xml"]
            body = self._crypto().decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
            body = body.decode("utf-8") if isinstance(body, bytes) else body
        return xmltodict.parse(body)["xml"].get("Content") or ""

    def say(self, openid: str, text: str) -> str:
        """Send a text message and return the reply."""
        xml = text_xml(openid, text, created=int(unix_seconds()), msg_id=secrets.randbits(62))
        return self.reply_text(self.post(xml))

    def event(self, openid: str, event: str, key: str = "") -> str:
        """Send an event and return the reply."""
        return self.reply_text(self.post(event_xml(openid, event, created=int(unix_seconds()), key=key)))

    def _crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.app_id)


def default_openid() -> str:
    """The first bound resident's openid, else a new unknown user."""
    openid = db.session.scalar(select(Resident.oa_openid).where(Resident.oa_openid.is_not(None))
                               .order_by(Resident.id).limit(1))
    return openid or f"o_sim_{secrets.token_hex(6)}"


def _line(sim: WeChatSimulator, openid: str, line: str) -> str:
    """One line of the interactive loop: text, or /subscribe, /unsubscribe, /menu KEY."""
    if line in ("/subscribe", "/unsubscribe"):
        return sim.event(openid, line[1:])
    if line.startswith("/menu"):
        return sim.event(openid, "CLICK", line[5:].strip() or "menu:help")
    return sim.say(openid, line)


@click.command("chat")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The running /wechat endpoint.")
@click.option("--openid", default=None, help="Who is talking (default: the first bound resident, else a stranger).")
@click.option("--aes", is_flag=True, help="Safe mode: encrypt with WECHAT_AES_KEY and decrypt the replies.")
@click.option("--say", "say_text", default=None, help="Send one message, print the reply and exit.")
def chat_command(url: str, openid: str | None, aes: bool, say_text: str | None) -> None:
    """Chat with the bot through the running endpoint, exactly as WeChat would post."""
    config = current_app.config
    if aes and not config.get("WECHAT_AES_KEY"):
        raise click.UsageError("--aes needs WECHAT_AES_KEY in the configuration")
    sim = WeChatSimulator(url=url, token=config["WECHAT_TOKEN"], app_id=config["WECHAT_APP_ID"],
                          aes_key=config["WECHAT_AES_KEY"] if aes else None)
    openid = openid or default_openid()
    db.session.remove()  # hold no connection while we wait on the server
    try:
        if say_text is not None:
            click.echo(_line(sim, openid, say_text))
            return
        click.echo(f"以 {openid} 的身份聊天（{url}）。/subscribe /unsubscribe /menu KEY，Ctrl-D 退出。")
        while True:
            try:
                line = input("你：").strip()
            except EOFError:
                click.echo()
                return
            if line:
                click.echo(f"助手：{_line(sim, openid, line)}")
    except requests.RequestException as exc:
        raise click.ClickException(f"无法连接 {url}：{exc}") from exc
