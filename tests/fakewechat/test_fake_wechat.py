"""The fake WeChat API answers with WeChat's paths and shapes, records calls and injects errors."""

from __future__ import annotations

import requests

from fakewechat import FakeWeChat, serve_in_thread


def _token(fake) -> str:
    r = requests.get(f"{fake.base_url}/cgi-bin/token",
                     params={"grant_type": "client_credential", "appid": "a", "secret": "s"}, timeout=5)
    return r.json()["access_token"]


def test_token_is_issued_and_counted(fake_wechat):
    fake_wechat.reset()
    body = requests.get(f"{fake_wechat.base_url}/cgi-bin/token",
                        params={"grant_type": "client_credential", "appid": "a", "secret": "s"}, timeout=5).json()
    assert body["expires_in"] == 7200 and body["access_token"]
    assert fake_wechat.token_fetches == 1
    assert fake_wechat.calls[0].path == "/cgi-bin/token"
    assert fake_wechat.calls[0]["args"]["appid"] == "a"


def test_wrong_token_gets_40001_and_right_one_sends(fake_wechat):
    fake_wechat.reset()
    url = f"{fake_wechat.base_url}/cgi-bin/message/custom/send"
    msg = {"touser": "o_1", "msgtype": "text", "text": {"content": "您好"}}
    assert requests.post(url, params={"access_token": "nope"}, json=msg, timeout=5).json()["errcode"] == 40001
    assert fake_wechat.sent_messages() == []
    token = _token(fake_wechat)
    assert requests.post(url, params={"access_token": token}, json=msg, timeout=5).json()["errcode"] == 0
    assert fake_wechat.sent_messages("custom") == [msg]
    assert fake_wechat.sent_messages("template") == []


def test_fail_next_injects_errors_the_given_number_of_times(fake_wechat):
    fake_wechat.reset()
    token = _token(fake_wechat)
    url = f"{fake_wechat.base_url}/cgi-bin/message/template/send"
    msg = {"touser": "o_1", "template_id": "T1", "data": {}}
    fake_wechat.fail_next("template/send", 45009, times=2, errmsg="reach max api daily quota limit")
    codes = [requests.post(url, params={"access_token": token}, json=msg, timeout=5).json()["errcode"]
             for _ in range(3)]
    assert codes == [45009, 45009, 0]
    assert len(fake_wechat.sent_messages("template")) == 1


def test_jscode2session_is_deterministic_and_rejects_bad_code(fake_wechat):
    url = f"{fake_wechat.base_url}/sns/jscode2session"
    params = {"appid": "wxa", "secret": "s", "grant_type": "authorization_code"}
    one = requests.get(url, params={**params, "js_code": "abc"}, timeout=5).json()
    two = requests.get(url, params={**params, "js_code": "abc"}, timeout=5).json()
    assert one == two and one["openid"] == "wxa_abc" and one["session_key"] and one["unionid"]
    assert requests.get(url, params={**params, "js_code": "bad"}, timeout=5).json()["errcode"] == 40029


def test_phone_number_maps_code_to_number(fake_wechat):
    token = _token(fake_wechat)
    url = f"{fake_wechat.base_url}/wxa/business/getuserphonenumber"
    body = requests.post(url, params={"access_token": token}, json={"code": "phone-13800000001"}, timeout=5).json()
    assert body["errcode"] == 0 and body["phone_info"]["phoneNumber"] == "13800000001"
    bad = requests.post(url, params={"access_token": token}, json={"code": "junk"}, timeout=5).json()
    assert bad["errcode"] == 40029


def test_wecom_token_and_send(fake_wechat):
    fake_wechat.reset()
    token = requests.get(f"{fake_wechat.base_url}/cgi-bin/gettoken",
                         params={"corpid": "c", "corpsecret": "s"}, timeout=5).json()["access_token"]
    msg = {"touser": "li", "msgtype": "text", "agentid": 1, "text": {"content": "新工单"}}
    body = requests.post(f"{fake_wechat.base_url}/cgi-bin/message/send",
                         params={"access_token": token}, json=msg, timeout=5).json()
    assert body["errcode"] == 0
    assert fake_wechat.wecom_token_fetches == 1 and fake_wechat.sent_messages("wecom") == [msg]


def test_expired_tokens_are_refused(fake_wechat):
    token = _token(fake_wechat)
    fake_wechat.expire_tokens()
    body = requests.get(f"{fake_wechat.base_url}/cgi-bin/user/info",
                        params={"access_token": token, "openid": "o_1"}, timeout=5).json()
    assert body["errcode"] == 40001


def test_unknown_path_is_404(fake_wechat):
    r = requests.get(f"{fake_wechat.base_url}/cgi-bin/nothing", timeout=5)
    assert r.status_code == 404 and r.json()["errcode"] == 40066


def test_serve_in_thread_serves_its_own_fake():
    server, base_url = serve_in_thread(0, FakeWeChat())
    try:
        requests.get(f"{base_url}/cgi-bin/token",
                     params={"grant_type": "client_credential", "appid": "a", "secret": "s"}, timeout=5)
        assert server.fake.token_fetches == 1 and server.fake.base_url == base_url
    finally:
        server.shutdown()
