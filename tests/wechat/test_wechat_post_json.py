"""The thin send path (post_json): same errors, retries and token handling as wechatpy's post()."""

from __future__ import annotations

import socket
import threading

import pytest

from app.core.errors import WeChatError
from app.core.redis_conn import get_redis
from app.wechat import build_oa_client
from app.wechat.calls import CUSTOM_SEND, TEMPLATE_SEND
from fakewechat import FakeWeChat, serve_lean_in_thread

MSG = {"touser": "o_1", "msgtype": "text", "text": {"content": "停水通知"}}


def _client(app, **kw):
    return build_oa_client(app, backoff=0.001, **kw)


@pytest.fixture
def lean():
    """A fake on the lean server, which keeps connections alive (werkzeug's closes each one)."""
    server, base_url = serve_lean_in_thread(0, FakeWeChat())
    yield server.fake, base_url
    server.shutdown()


def test_sends_json_with_the_shared_token_over_keep_alive(app, lean):
    fake, base_url = lean
    client = _client(app, base_url=base_url)
    for _ in range(3):
        assert client.post_json(CUSTOM_SEND, MSG)["errcode"] == 0
    assert fake.sent_messages("custom") == [MSG] * 3
    assert fake.token_fetches == 1
    assert {c.args["access_token"] for c in fake.calls_to("custom/send")} == {client.access_token}
    conn = client._conns.by_host[("http", base_url.split("//")[1])]
    assert conn.sock is not None  # kept open for the next send


def test_busy_is_retried_then_succeeds_and_retries_are_bounded(app, fake_wechat):
    fake_wechat.fail_next("custom/send", -1, times=2)
    _client(app).post_json(CUSTOM_SEND, MSG)
    assert [c.errcode for c in fake_wechat.calls_to("custom/send")] == [-1, -1, 0]
    fake_wechat.reset()
    fake_wechat.fail_next("custom/send", -1, times=5)
    with pytest.raises(WeChatError) as err:
        _client(app, max_retries=2).post_json(CUSTOM_SEND, MSG)
    assert err.value.errcode == -1 and len(fake_wechat.calls_to("custom/send")) == 3


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_token_errors_refresh_once_and_retry_once(app, fake_wechat, errcode):
    client = _client(app)
    client.post_json(CUSTOM_SEND, MSG)
    fake_wechat.fail_next("custom/send", errcode, times=3)
    with pytest.raises(WeChatError) as err:
        client.post_json(CUSTOM_SEND, MSG)
    assert err.value.errcode == errcode
    assert [c.errcode for c in fake_wechat.calls_to("custom/send")] == [0, errcode, errcode]
    assert fake_wechat.token_fetches == 2


@pytest.mark.parametrize("errcode", [45015, 43004, 40003, 43101])
def test_final_errors_are_never_retried(app, fake_wechat, errcode):
    fake_wechat.fail_next("template/send", errcode, errmsg="refused")
    with pytest.raises(WeChatError) as err:
        _client(app).post_json(TEMPLATE_SEND, {"touser": "o_1", "template_id": "T", "data": {}})
    assert (err.value.errcode, err.value.errmsg) == (errcode, "refused")
    assert len(fake_wechat.calls_to("template/send")) == 1


def test_rate_limit_with_a_stop_event_stops_at_once_and_tells_the_batch(app, fake_wechat):
    stop = threading.Event()
    fake_wechat.fail_next("custom/send", 45009, times=5)
    with pytest.raises(WeChatError) as err:
        _client(app).post_json(CUSTOM_SEND, MSG, stop)
    assert err.value.errcode == 45009 and stop.is_set()
    assert len(fake_wechat.calls_to("custom/send")) == 1
    fake_wechat.reset()
    fake_wechat.fail_next("custom/send", -1, times=1)  # busy once the batch is stopped: no retry either
    with pytest.raises(WeChatError):
        _client(app).post_json(CUSTOM_SEND, MSG, stop)
    assert len(fake_wechat.calls_to("custom/send")) == 1


def test_rate_limit_without_a_stop_event_backs_off_and_retries(app, fake_wechat):
    fake_wechat.fail_next("custom/send", 45011)
    _client(app).post_json(CUSTOM_SEND, MSG)
    assert [c.errcode for c in fake_wechat.calls_to("custom/send")] == [45011, 0]


def test_connection_refused_is_retried_then_reported_as_busy(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = _client(app, base_url=f"http://127.0.0.1:{port}", timeout=1)
    client.session.set(client.access_token_key, "T", 60)
    with pytest.raises(WeChatError) as err:
        client.post_json(CUSTOM_SEND, MSG)
    assert err.value.errcode == -1 and "connection failed" in err.value.errmsg


def test_a_server_that_closed_the_idle_connection_is_reconnected(app, lean):
    fake, base_url = lean
    client = _client(app, base_url=base_url)
    client.post_json(CUSTOM_SEND, MSG)
    conn = client._conns.by_host[("http", base_url.split("//")[1])]
    conn.sock.shutdown(socket.SHUT_RDWR)  # as if the server had dropped it
    client.post_json(CUSTOM_SEND, MSG)
    assert len(fake.sent_messages("custom")) == 2 and fake.token_fetches == 1


def test_the_token_cache_spares_redis_and_a_stale_token_is_replaced(app, fake_wechat):
    client = _client(app, token_cache=60)
    client.post_json(CUSTOM_SEND, MSG)
    get_redis(app).delete(f"wechatpy:{client.access_token_key}")
    client.post_json(CUSTOM_SEND, MSG)  # the cached token: no Redis read, no new fetch
    assert fake_wechat.token_fetches == 1
    fake_wechat.expire_tokens()  # WeChat no longer takes it: refreshed once, sent
    client.post_json(CUSTOM_SEND, MSG)
    assert fake_wechat.token_fetches == 2 and len(fake_wechat.sent_messages("custom")) == 3
    assert [c.errcode for c in fake_wechat.calls_to("custom/send")][-2:] == [40001, 0]
