"""`flask chat`: talk to the running /wechat endpoint exactly as WeChat would (signed, optionally encrypted)."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import click
import requests
import xmltodict
from flask import current_app
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from app.community.models import Resident
from app.core.clock import unix_seconds
from app.core.db import db
from config import INSTANCE_DIR

ACCOUNT = "gh_linli_sim"
LATER = "（机器人稍后以客服消息回复）"
FAKE_URL_FILE = INSTANCE_DIR / "fakewechat.url"  # written by `make run` (devserver.py)
LATER_WAIT = 0.6  # seconds to wait after a reply for what the worker sends (staff replies, ticket updates)


def default_url(env: Mapping[str, str] = os.environ) -> str:
    """The /wechat endpoint of `make run`: HOST and PORT as devserver.py reads them."""
    host = env.get("HOST") or "127.0.0.1"
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{env.get('PORT') or '5000'}/wechat"


def message_text(message: dict) -> str:
    """What a resident sees of one delivered message (custom text, or a template's field values)."""
    if (message.get("text") or {}).get("content"):
        return message["text"]["content"]
    data = message.get("data") or {}
    values = [str(v.get("value", "")) if isinstance(v, dict) else str(v) for v in data.values()]
    return "；".join(v for v in values if v) or f"（{message.get('msgtype') or '模板消息'}）"


@dataclass
class LaterMessages:
    """What reached the resident afterwards, read from the fake WeChat's record (GET /fake/sent)."""

    base_url: str | None
    openid: str
    since: int = 0
    http: requests.Session = field(default_factory=requests.Session)

    def start(self) -> None:
        """Skip everything delivered before this chat began."""
        self.since = self._fetch()[1]

    def new(self, wait: float = 0.0) -> list[str]:
        """Messages to this resident since the last look, waiting up to `wait` seconds for the first."""
        deadline = time.monotonic() + wait
        while True:
            messages, self.since = self._fetch()
            if messages or time.monotonic() >= deadline:
                return [message_text(m) for m in messages]
            time.sleep(0.25)

    def _fetch(self) -> tuple[list[dict], int]:
        if not self.base_url:
            return [], self.since
        try:
            body = self.http.get(f"{self.base_url.rstrip('/')}/fake/sent", timeout=3,
                                 params={"touser": self.openid, "since": self.since}).json()
        except (requests.RequestException, ValueError):
            return [], self.since
        return body.get("messages") or [], int(body.get("next") or self.since)


def fake_base_url(config: Mapping, given: str | None, written: Path = FAKE_URL_FILE) -> str | None:
    """The fake WeChat API's address: --fake, a loopback WECHAT_API_BASE_URL, or the one `make run` wrote."""
    if given:
        return given
    configured = config.get("WECHAT_API_BASE_URL") or ""
    if "127.0.0.1" in configured or "localhost" in configured:
        return configured
    if written.is_file():
        return written.read_text(encoding="utf-8").strip() or None
    return None


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


def _echo_later(later: LaterMessages, wait: float) -> None:
    for text in later.new(wait):
        click.echo(f"（稍后收到）{text}")


@click.command("chat")
@click.option("--url", default=None, help="The running /wechat endpoint (default: HOST/PORT as `make run` uses).")
@click.option("--openid", default=None, help="Who is talking (default: the first bound resident, else a stranger; "
                                              "demo residents are o_demo_0001 ... as `flask seed-demo` lists).")
@click.option("--aes", is_flag=True, help="Safe mode: encrypt with WECHAT_AES_KEY and decrypt the replies.")
@click.option("--say", "say_text", default=None, help="Send one message, print the reply and exit.")
@click.option("--fake", "fake_url", default=None,
              help="The fake WeChat API, to show what reaches the resident later (default: `make run`'s).")
def chat_command(url: str | None, openid: str | None, aes: bool, say_text: str | None, fake_url: str | None) -> None:
    """Chat with the bot through the running endpoint, exactly as WeChat would post; messages sent to the
    resident afterwards (staff replies, ticket updates) are shown from the fake WeChat's record."""
    config = current_app.config
    url = url or default_url()
    if aes and not config.get("WECHAT_AES_KEY"):
        raise click.UsageError("--aes needs WECHAT_AES_KEY in the configuration")
    sim = WeChatSimulator(url=url, token=config["WECHAT_TOKEN"], app_id=config["WECHAT_APP_ID"],
                          aes_key=config["WECHAT_AES_KEY"] if aes else None)
    openid = openid or default_openid()
    db.session.remove()  # hold no connection while we wait on the server
    later = LaterMessages(fake_base_url(config, fake_url), openid)
    later.start()
    try:
        if say_text is not None:
            click.echo(_line(sim, openid, say_text))
            _echo_later(later, LATER_WAIT)
            return
        click.echo(f"以 {openid} 的身份聊天（{url}）。/subscribe /unsubscribe /menu KEY，"
                   "/later 看看之后收到的消息，Ctrl-D 退出。")
        while True:
            try:
                line = input("你：").strip()
            except EOFError:
                click.echo()
                return
            if line == "/later":
                _echo_later(later, LATER_WAIT)
            elif line:
                click.echo(f"助手：{_line(sim, openid, line)}")
                _echo_later(later, LATER_WAIT)
    except requests.RequestException as exc:
        raise click.ClickException(f"无法连接 {url}：{exc}") from exc
