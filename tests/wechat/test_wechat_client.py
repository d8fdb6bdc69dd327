"""The WeChat client factory against the fake API: shared token, refresh lock, bounded retries."""

from __future__ import annotations

import socket
import threading

import pytest

from app.core.errors import WeChatError
from app.core.redis_conn import get_redis
from app.wechat import (
    WeComClient,
    build_oa_client,
    code_to_session,
    get_phone_number,
    oa_client,
    send_customer_text,
    send_subscribe_message,
    send_template_message,
    send_wecom_text,
    wecom_client,
    wxa_client,
)
from app.wechat.transport import RewriteHostAdapter


def _fast(app, **kw):
    return build_oa_client(app, backoff=0.001, **kw)


def test_send_customer_text_reaches_the_fake_and_reuses_one_token(app, fake_wechat):
    send_customer_text(app, "o_resident", "您的报修已受理")
    send_customer_text(app, "o_resident", "师傅下午到")
    sent = fake_wechat.sent_messages("custom")
    assert [m["text"]["content"] for m in sent] == ["您的报修已受理", "师傅下午到"]
    assert sent[0]["touser"] == "o_resident" and sent[0]["msgtype"] == "text"
    assert fake_wechat.token_fetches == 1


def test_factory_returns_one_client_per_kind(app):
    assert oa_client(app) is oa_client(app)
    assert wxa_client(app) is not oa_client(app)
    assert wxa_client(app).appid == app.config["WXA_APP_ID"]
    assert oa_client(app).auto_retry is False and oa_client(app).timeout


def test_token_is_shared_through_redis_between_clients(app, fake_wechat):
    first, second = _fast(app), _fast(app)
    first.message.send_text("o_1", "一")
    second.message.send_text("o_1", "二")
    assert fake_wechat.token_fetches == 1
    assert get_redis(app).get(f"wechatpy:{first.access_token_key}") is not None


def test_two_clients_in_two_threads_fetch_the_token_once(app, fake_wechat):
    clients = [_fast(app), _fast(app)]
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def send(client, n):
        barrier.wait()
        try:
            client.message.send_text("o_1", f"消息{n}")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    fake_wechat.token_delay = 0.3  # a slow token endpoint widens the race
    try:
        threads = [threading.Thread(target=send, args=(c, n)) for n, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    finally:
        fake_wechat.token_delay = 0.0
    assert errors == []
    assert fake_wechat.token_fetches == 1
    assert len(fake_wechat.sent_messages("custom")) == 2


def test_busy_is_retried_with_backoff_then_succeeds(app, fake_wechat):
    fake_wechat.fail_next("custom/send", -1, times=2, errmsg="system error")
    _fast(app).message.send_text("o_1", "好")
    assert len(fake_wechat.calls_to("custom/send")) == 3
    assert len(fake_wechat.sent_messages("custom")) == 1


def test_busy_retries_are_bounded(app, fake_wechat):
    fake_wechat.fail_next("custom/send", -1, times=5)
    with pytest.raises(WeChatError) as err:
        _fast(app, max_retries=2).message.send_text("o_1", "好")
    assert err.value.errcode == -1
    assert len(fake_wechat.calls_to("custom/send")) == 3


@pytest.mark.parametrize("errcode", [45009, 45011])
def test_rate_limits_back_off_and_retry(app, fake_wechat, errcode):
    fake_wechat.fail_next("template/send", errcode)
    _fast(app).post("https://api.weixin.qq.com/cgi-bin/message/template/send",
                    data={"touser": "o_1", "template_id": "T", "data": {}})
    assert [c.errcode for c in fake_wechat.calls_to("template/send")] == [errcode, 0]


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_token_errors_refresh_once_and_retry_once(app, fake_wechat, errcode):
    client = _fast(app)
    client.message.send_text("o_1", "先拿到令牌")
    fake_wechat.fail_next("custom/send", errcode)
    client.message.send_text("o_1", "令牌失效后")
    assert fake_wechat.token_fetches == 2
    assert [c.errcode for c in fake_wechat.calls_to("custom/send")] == [0, errcode, 0]


def test_token_error_twice_is_raised_after_one_refresh(app, fake_wechat):
    fake_wechat.fail_next("custom/send", 42001, times=3)
    with pytest.raises(WeChatError) as err:
        _fast(app).message.send_text("o_1", "好")
    assert err.value.errcode == 42001
    assert len(fake_wechat.calls_to("custom/send")) == 2
    assert fake_wechat.token_fetches == 2


def test_token_revoked_by_wechat_is_replaced(app, fake_wechat):
    client = _fast(app)
    client.message.send_text("o_1", "一")
    fake_wechat.expire_tokens()
    client.message.send_text("o_1", "二")
    assert fake_wechat.token_fetches == 2 and len(fake_wechat.sent_messages("custom")) == 2


@pytest.mark.parametrize("errcode", [45015, 45047, 43101, 43004, 40003])
def test_final_errors_are_never_retried(app, fake_wechat, errcode):
    fake_wechat.fail_next("custom/send", errcode, errmsg="response out of time limit")
    with pytest.raises(WeChatError) as err:
        send_customer_text(app, "o_1", "好")
    assert err.value.errcode == errcode and err.value.errmsg == "response out of time limit"
    assert err.value.code == "wechat_error"
    assert len(fake_wechat.calls_to("custom/send")) == 1


def test_connection_refused_is_retried_then_reported(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = build_oa_client(app, base_url=f"http://127.0.0.1:{port}", backoff=0.001, timeout=1)
    with pytest.raises(WeChatError) as err:
        client.message.send_text("o_1", "好")
    assert err.value.errcode == -1


def test_base_url_rewrite_keeps_path_and_query():
    adapter = RewriteHostAdapter("http://127.0.0.1:8700/prefix/")
    assert adapter.rewrite("https://api.weixin.qq.com/cgi-bin/token?appid=a") == \
        "http://127.0.0.1:8700/prefix/cgi-bin/token?appid=a"


def test_hard_coded_urls_also_reach_the_fake(app, fake_wechat):
    # The token URL and customservice are hard-coded in wechatpy; both must land on the fake.
    with pytest.raises(WeChatError):
        _fast(app).customservice.get_accounts()
    assert [c.path for c in fake_wechat.calls] == ["/cgi-bin/token", "/cgi-bin/customservice/getkflist"]


def test_mini_program_login_and_phone(app, fake_wechat):
    session = code_to_session(app, "abc")
    assert session.openid == "wxa_abc" and session.session_key and session.unionid == "union_abc"
    assert "access_token" not in fake_wechat.calls_to("jscode2session")[0].args
    with pytest.raises(WeChatError) as err:
        code_to_session(app, "bad")
    assert err.value.errcode == 40029
    assert get_phone_number(app, "phone-13800000001") == "13800000001"


def test_subscribe_and_template_messages(app, fake_wechat):
    send_subscribe_message(app, "wxa_1", "TPL_REPAIR", {"thing1": {"value": "水管"}}, page="pages/t/1")
    send_template_message(app, "o_1", "TPL_NOTICE", {"first": {"value": "停水通知"}}, url="https://x/1")
    assert fake_wechat.sent_messages("subscribe") == [
        {"touser": "wxa_1", "template_id": "TPL_REPAIR", "data": {"thing1": {"value": "水管"}}, "page": "pages/t/1"}]
    assert fake_wechat.sent_messages("template")[0]["url"] == "https://x/1"
    fake_wechat.fail_next("subscribe/send", 43101)
    with pytest.raises(WeChatError) as err:
        send_subscribe_message(app, "wxa_1", "TPL_REPAIR", {})
    assert err.value.errcode == 43101


def test_wecom_is_off_until_configured_and_sends_when_built(app, fake_wechat):
    assert wecom_client(app) is None and send_wecom_text(app, ["li"], "新工单") is False
    client = WeComClient("corp1", "wecom-secret", 1000002, redis_client=get_redis(app),
                         base_url=fake_wechat.base_url, backoff=0.001)
    client.message.send_text(client.agent_id, ["li"], "30号楼新工单")
    assert fake_wechat.wecom_token_fetches == 1
    assert fake_wechat.sent_messages("wecom")[0]["text"]["content"] == "30号楼新工单"
