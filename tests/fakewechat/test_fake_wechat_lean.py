"""The lean keep-alive server answers like the werkzeug one; record=False counts instead of recording."""

from __future__ import annotations

import socket

import pytest
import requests

from fakewechat import FakeWeChat, serve_lean_in_thread


@pytest.fixture
def lean():
    server, base_url = serve_lean_in_thread(0, FakeWeChat())
    yield server.fake, base_url
    server.shutdown()


def _token(base_url: str, http=requests) -> str:
    params = {"grant_type": "client_credential", "appid": "a", "secret": "s"}
    return http.get(f"{base_url}/cgi-bin/token", params=params, timeout=5).json()["access_token"]


def test_tokens_sends_injected_failures_and_404_over_one_connection(lean):
    fake, base_url = lean
    with requests.Session() as http:
        token = _token(base_url, http)
        url = f"{base_url}/cgi-bin/message/custom/send"
        msg = {"touser": "o_1", "msgtype": "text", "text": {"content": "您好"}}
        assert http.post(url, params={"access_token": "nope"}, json=msg, timeout=5).json()["errcode"] == 40001
        fake.fail_next("custom/send", 45009)
        assert http.post(url, params={"access_token": token}, json=msg, timeout=5).json()["errcode"] == 45009
        assert http.post(url, params={"access_token": token}, json=msg, timeout=5).json()["errcode"] == 0
        missing = http.get(f"{base_url}/cgi-bin/nothing", timeout=5)
        assert missing.status_code == 404 and missing.json()["errcode"] == 40066
    assert fake.token_fetches == 1 and fake.sent_messages("custom") == [msg]
    assert [c.errcode for c in fake.calls_to("custom/send")] == [40001, 45009, 0]
    assert fake.count("/custom/send") == 1 and fake.count("/custom/send", errcode=None) == 3


def test_split_and_pipelined_requests_are_answered_in_order(lean):
    fake, base_url = lean
    token = _token(base_url)
    host, port = base_url.split("//")[1].split(":")
    body = b'{"touser":"o_2","template_id":"T","data":{}}'
    request = (f"POST /cgi-bin/message/template/send?access_token={token} HTTP/1.1\r\nHost: x\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request[:20])
        sock.sendall(request[20:-5])
        sock.sendall(request[-5:] + request)  # the end of one, then a whole second one
        answers = b""
        while answers.count(b"HTTP/1.1 200 OK") < 2 or not answers.endswith(b"}"):
            answers += sock.recv(4096)
    assert answers.count(b'"errcode": 0') == 2 and len(fake.sent_messages("template")) == 2


def test_record_false_counts_without_keeping_calls():
    server, base_url = serve_lean_in_thread(0, FakeWeChat(record=False))
    try:
        token = _token(base_url)
        for _ in range(3):
            requests.post(f"{base_url}/cgi-bin/message/subscribe/send", params={"access_token": token},
                          json={"touser": "w", "template_id": "T", "data": {}}, timeout=5)
        assert server.fake.calls == [] and server.fake.count("/subscribe/send") == 3
        assert server.fake.token_fetches == 1
    finally:
        server.shutdown()
