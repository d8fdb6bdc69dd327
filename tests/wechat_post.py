"""Posting to /wechat the way WeChat's servers do, signed and encrypted with wechatpy (not our code)."""

from __future__ import annotations

import itertools
import secrets
import time
from pathlib import Path

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wechat"
_msg_ids = itertools.count(7_000_000_000_000_000_001)


def fixture(name: str) -> str:
    """A recorded WeChat XML message from tests/fixtures/wechat."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def text_xml(openid: str, content: str, msg_id: int | None = None, msg_type: str = "text") -> str:
    """A text message from openid, with a fresh MsgId unless one is given."""
    msg_id = next(_msg_ids) if msg_id is None else msg_id
    return (f"<xml><ToUserName><![CDATA[gh_linli]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]>"
            f"</MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def signature(token: str, timestamp: str, nonce: str) -> str:
    """The plain-mode signature, computed by wechatpy's signer."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature


class WeChatServer:
    """Signs and posts like WeChat; `crypto` set = safe mode."""

    def __init__(self, client, token: str, crypto: WeChatCrypto | None = None) -> None:
        self.client, self.token, self.crypto = client, token, crypto

    def params(self, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        """Fresh signed query parameters (plain mode)."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(6)
        return {"timestamp": timestamp, "nonce": nonce, "signature": signature(self.token, timestamp, nonce)}

    def post(self, xml: str | bytes, params: dict[str, str] | None = None):
        """Post one message (encrypted in safe mode); returns the test client's response."""
        params = dict(params or self.params())
        body = xml
        if self.crypto is not None:
            body = self.crypto.encrypt_message(xml, params["nonce"], params["timestamp"])
            params["encrypt_type"] = "aes"
            params["msg_signature"] = xmltodict.parse(body)["xml"]["MsgSignature"]
        data = body.encode("utf-8") if isinstance(body, str) else body
        return self.client.post("/wechat", query_string=params, data=data, content_type="text/xml")

    def reply(self, response) -> dict | None:
        """The reply's fields (decrypted in safe mode); None for `success`."""
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_data(as_text=True)
        if body == "success":
            return None
        if self.crypto is not None:
            outer = xmltodict.parse(body)["xml"]
            body = self.crypto.decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return xmltodict.parse(body)["xml"]

    def say(self, openid: str, content: str) -> str | None:
        """Send a text and return the reply's Content (None for `success`)."""
        fields = self.reply(self.post(text_xml(openid, content)))
        return None if fields is None else fields["Content"]
