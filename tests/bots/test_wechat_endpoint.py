"""/wechat: verification, signatures in plain and safe mode, clock window, replays, hostile XML, dedup."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
from sqlalchemy import func, select
from wechat_post import FIXTURES, WeChatServer, fixture, signature, text_xml
from wechatpy.crypto import WeChatCrypto, _get_signature

from app.binding.models import Binding
from app.chat.core import BIND_HINT
from app.chat.models import Message
from app.core.db import db


@pytest.fixture
def safe_mode(app, client, monkeypatch):
    """Safe mode with a fresh AES key; returns a WeChatServer that encrypts with wechatpy."""
    key = base64.b64encode(bytes(range(32))).decode().rstrip("=")
    monkeypatch.setitem(app.config, "WECHAT_AES_KEY", key)
    return WeChatServer(client, app.config["WECHAT_TOKEN"],
                        WeChatCrypto(app.config["WECHAT_TOKEN"], key, app.config["WECHAT_APP_ID"]))


def _inbound_count(**filters) -> int:
    query = select(func.count()).select_from(Message).filter_by(direction="in", **filters)
    return db.session.scalar(query)


def _error_code(response) -> str:
    return response.get_json()["error"]["code"]


# ----- GET verification -------------------------------------------------------------------------

def test_get_echoes_echostr_when_signed(client, wx):
    response = client.get("/wechat", query_string={**wx.params(), "echostr": "hello-123"})
    assert response.status_code == 200 and response.get_data(as_text=True) == "hello-123"


def test_get_with_a_forged_signature_is_refused(client, wx):
    params = {**wx.params(), "echostr": "x"}
    params["signature"] = "0" * 40
    response = client.get("/wechat", query_string=params)
    assert response.status_code == 403 and _error_code(response) == "bad_signature"
    assert client.get("/wechat", query_string={"echostr": "x"}).status_code == 403


# ----- plain mode -------------------------------------------------------------------------------

def test_signed_text_gets_a_passive_reply_to_the_sender(wx):
    fields = wx.reply(wx.post(fixture("text.xml")))
    assert fields["ToUserName"] == "oFixtureUser0000000000000001"
    assert fields["FromUserName"] == "gh_linli" and fields["MsgType"] == "text"
    assert "您好" in fields["Content"]
    stored = db.session.scalar(select(Message).where(Message.direction == "in"))
    assert stored.content == "你好" and stored.wechat_msg_id == "24602577883537561"
    assert stored.reply == fields["Content"]


def test_unsigned_forged_and_stale_requests_are_refused(client, wx):
    xml = text_xml("o_attacker", "你好")
    assert client.post("/wechat", data=xml, content_type="text/xml").status_code == 403
    forged = {**wx.params(), "signature": "f" * 40}
    assert wx.post(xml, forged).status_code == 403
    other_token = {**wx.params()}
    other_token["signature"] = signature("not-our-token", other_token["timestamp"], other_token["nonce"])
    assert wx.post(xml, other_token).status_code == 403
    stale = wx.params(timestamp=str(int(time.time()) - 301))
    assert wx.post(xml, stale).status_code == 403
    future = wx.params(timestamp=str(int(time.time()) + 301))
    assert wx.post(xml, future).status_code == 403
    assert wx.post(xml, wx.params(timestamp="abc")).status_code == 403
    assert _inbound_count() == 0


def test_replayed_signature_with_another_body_is_refused_but_wechats_retry_is_not(wx):
    params = wx.params()
    body = text_xml("o_user", "你好", msg_id=1001)
    first = wx.post(body, params)
    retry = wx.post(body, params)  # WeChat's retry: same query string, byte-identical body
    replay = wx.post(text_xml("o_victim", "转人工", msg_id=1002), params)  # captured signature, new body
    assert first.status_code == retry.status_code == 200
    assert wx.reply(first)["Content"] == wx.reply(retry)["Content"]
    assert replay.status_code == 403 and _error_code(replay) == "bad_signature"
    assert _inbound_count(wechat_msg_id="1001") == 1 and _inbound_count(wechat_msg_id="1002") == 0


def test_one_msgid_posted_three_times_is_stored_once_with_three_identical_replies(wx, make_resident,
                                                                                 db_session):
    make_resident("3", "2", "1201", phone="13912345678")
    db_session.commit()
    assert wx.say("o_dup", "绑定")
    xml = text_xml("o_dup", "3幢2单元1201 13912345678", msg_id=555_000_001)
    params = wx.params()
    replies = [wx.reply(wx.post(xml, params))["Content"] for _ in range(2)]
    replies.append(wx.reply(wx.post(xml))["Content"])  # a retry with fresh query parameters too
    assert replies[0] == replies[1] == replies[2] and "已提交绑定申请" in replies[0]
    assert _inbound_count(wechat_msg_id="555000001") == 1
    assert db.session.scalar(select(func.count()).select_from(Binding)) == 1


def test_an_event_retry_is_deduplicated_on_user_time_and_event(wx):
    replies = [wx.reply(wx.post(fixture("subscribe.xml")))["Content"] for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert _inbound_count(msg_type="event") == 1


def test_two_concurrent_identical_posts_act_once_and_answer_the_same(app, make_resident, db_session):
    """On PostgreSQL the two posts really race (the second waits on the unique dedup key, then reads
    the first one's reply). In-memory SQLite has one shared connection, so there they take turns."""
    serial = threading.Lock() if db.engine.dialect.name == "sqlite" else None
    make_resident("5", "1", "501", phone="13700000005")
    db_session.commit()
    start = WeChatServer(app.test_client(), app.config["WECHAT_TOKEN"])
    assert "房号" in start.say("o_race", "绑定")
    xml = text_xml("o_race", "5-1-501 13700000005", msg_id=777_000_001)
    params = start.params()
    barrier, replies, errors = threading.Barrier(2), [], []

    def post():
        try:
            poster = WeChatServer(app.test_client(), app.config["WECHAT_TOKEN"])
            barrier.wait(timeout=5)
            if serial is None:
                replies.append(poster.reply(poster.post(xml, params))["Content"])
                return
            with serial:
                replies.append(poster.reply(poster.post(xml, params))["Content"])
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors and len(replies) == 2 and replies[0] == replies[1]
    db.session.expire_all()
    assert _inbound_count(wechat_msg_id="777000001") == 1
    assert db.session.scalar(select(func.count()).select_from(Binding)) == 1


# ----- bad and hostile bodies -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_xml_with_a_dtd_is_refused_quickly(wx, name):
    started = time.perf_counter()
    response = wx.post(fixture(name))
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400 and _error_code(response) == "bad_xml"
    assert _inbound_count() == 0


def test_a_one_megabyte_body_is_refused_before_parsing(wx):
    huge = "<xml><Content><![CDATA[" + "长" * (1024 * 1024 // 3) + "]]></Content></xml>"
    started = time.perf_counter()
    response = wx.post(huge)
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 400 and _error_code(response) == "bad_xml"


@pytest.mark.parametrize("body", [
    b"",
    b"not xml at all",
    b"<xml><ToUserName>x</ToUserName>",
    b"<xml>just text</xml>",
    b"<xml><FromUserName>o_1</FromUserName><CreateTime>1</CreateTime></xml>",  # no MsgType
    b"<xml><MsgType>text</MsgType><CreateTime>1</CreateTime><Content>hi</Content></xml>",  # no sender
    b"<xml><FromUserName>o_1</FromUserName><MsgType>text</MsgType><Content>hi</Content></xml>",  # no id/time
    "<xml><FromUserName>o_1</FromUserName><MsgType>text</MsgType><Content>你好</Content></xml>".encode("gbk"),
    b"<xml><FromUserName><a>nested</a></FromUserName><MsgType>text</MsgType><MsgId>1</MsgId></xml>",
])
def test_malformed_bodies_get_400_never_500(wx, body):
    response = wx.post(body)
    assert response.status_code == 400 and _error_code(response) == "bad_xml"
    assert "格式" in response.get_json()["error"]["message"]


# ----- safe (AES) mode --------------------------------------------------------------------------

def test_wechatpys_published_aes_vector_decrypts_through_the_endpoint(app, client, monkeypatch):
    vector = json.loads((FIXTURES / "aes_vector.json").read_text())
    for key, value in {"WECHAT_TOKEN": vector["token"], "WECHAT_AES_KEY": vector["encoding_aes_key"],
                       "WECHAT_APP_ID": vector["app_id"], "WECHAT_TIMESTAMP_WINDOW": 10**10}.items():
        monkeypatch.setitem(app.config, key, value)
    params = {"msg_signature": vector["msg_signature"], "timestamp": vector["timestamp"],
              "nonce": vector["nonce"], "encrypt_type": "aes"}
    response = client.post("/wechat", query_string=params, data=vector["body"].encode(), content_type="text/xml")
    crypto = WeChatCrypto(vector["token"], vector["encoding_aes_key"], vector["app_id"])
    fields = WeChatServer(client, vector["token"], crypto).reply(response)
    assert fields["ToUserName"] == vector["expected"]["FromUserName"]
    stored = db.session.scalar(select(Message).where(Message.direction == "in"))
    assert stored.content == vector["expected"]["Content"] and stored.msg_type == vector["expected"]["MsgType"]
    assert stored.payload["FromUserName"] == "messense" and stored.reply == fields["Content"]
    # the same vector with a tampered signature is refused
    forged = {**params, "msg_signature": "0" * 40, "nonce": "1"}
    assert client.post("/wechat", query_string=forged, data=vector["body"].encode()).status_code == 403


def test_safe_mode_round_trip_and_refusals(safe_mode, wx, app):
    fields = safe_mode.reply(safe_mode.post(text_xml("o_safe", "你好")))
    assert fields["ToUserName"] == "o_safe" and "您好" in fields["Content"]
    # a plain-mode post is not accepted once the account is in safe mode
    assert wx.post(text_xml("o_safe", "你好")).status_code == 403
    # a correctly encrypted message whose msg_signature was made with another token
    other = WeChatServer(safe_mode.client, "other-token", WeChatCrypto("other-token", "a" * 43, "wx_test_app"))
    assert other.post(text_xml("o_safe", "你好")).status_code == 403
    # encrypted for another app id
    foreign_crypto = WeChatCrypto(safe_mode.token, app.config["WECHAT_AES_KEY"], "wx_someone_else")
    foreign = WeChatServer(safe_mode.client, safe_mode.token, foreign_crypto)
    assert foreign.post(text_xml("o_safe", "你好")).status_code == 403


def test_safe_mode_success_is_not_encrypted(safe_mode):
    response = safe_mode.post(fixture("unsubscribe.xml"))
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"


def test_safe_mode_hostile_or_garbage_payloads_get_400(safe_mode, client):
    assert safe_mode.post(fixture("billion_laughs.xml")).status_code == 400
    params = safe_mode.params()
    garbage = "<xml><ToUserName>x</ToUserName><Encrypt><![CDATA[bm90IHJlYWxseSBlbmNyeXB0ZWQ=]]></Encrypt></xml>"
    params.update(encrypt_type="aes", msg_signature=_get_signature(
        safe_mode.token, params["timestamp"], params["nonce"], "bm90IHJlYWxseSBlbmNyeXB0ZWQ="))
    response = client.post("/wechat", query_string=params, data=garbage.encode())
    assert response.status_code == 400
    no_encrypt = {**safe_mode.params(), "encrypt_type": "aes", "msg_signature": "0" * 40}
    assert client.post("/wechat", query_string=no_encrypt, data=b"<xml><A>1</A></xml>").status_code == 400


def test_strangers_are_pointed_to_binding_for_anything_else(wx):
    assert BIND_HINT in wx.say("o_stranger", "我想问点事情")
