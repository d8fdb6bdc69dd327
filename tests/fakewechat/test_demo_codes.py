"""The fake's demo login codes (demo-0007 -> w_demo_0007) and its record of deliveries, read over HTTP."""

from __future__ import annotations

import requests


def _code2session(fake_wechat, code: str) -> dict:
    params = {"appid": "wxa", "secret": "s", "grant_type": "authorization_code", "js_code": code}
    return requests.get(f"{fake_wechat.base_url}/sns/jscode2session", params=params, timeout=5).json()


def test_a_demo_code_logs_in_as_that_demo_resident(fake_wechat):
    assert _code2session(fake_wechat, "demo-0007")["openid"] == "w_demo_0007"
    assert _code2session(fake_wechat, "demo-0021")["openid"] == "w_demo_0021"
    assert _code2session(fake_wechat, "demo-7")["openid"] == "wxa_demo-7"  # not four digits: an ordinary code


def test_a_demo_resident_logs_in_to_the_api_with_their_code(client, make_resident, db_session):
    make_resident("7", "2", "601", name="沈思远", wxa_openid="w_demo_0007")
    db_session.commit()
    body = client.post("/api/v1/login", json={"code": "demo-0007"}).get_json()
    assert body["bound"] is True and body["resident"]["name"] == "沈思远" and body["token"]
    assert client.post("/api/v1/login", json={"code": "demo-0008"}).get_json()["bound"] is False


def test_the_record_of_deliveries_is_readable_per_resident(fake_wechat):
    token = requests.get(f"{fake_wechat.base_url}/cgi-bin/token", timeout=5, params={
        "grant_type": "client_credential", "appid": "wx", "secret": "s"}).json()["access_token"]
    send = f"{fake_wechat.base_url}/cgi-bin/message/custom/send"
    for touser, text in (("o_a", "一"), ("o_b", "二"), ("o_a", "三")):
        requests.post(send, params={"access_token": token}, timeout=5,
                      json={"touser": touser, "msgtype": "text", "text": {"content": text}})
    sent = f"{fake_wechat.base_url}/fake/sent"
    first = requests.get(sent, params={"touser": "o_a"}, timeout=5).json()
    assert [m["text"]["content"] for m in first["messages"]] == ["一", "三"] and first["next"] == 3
    later = requests.get(sent, params={"touser": "o_a", "since": first["next"]}, timeout=5).json()
    assert later["messages"] == [] and later["next"] == 3
