"""`flask chat --say` talks to a live server exactly as WeChat would, in plain and safe mode."""

from __future__ import annotations

import base64
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.chat.core import BIND_HINT, HUMAN_REPLY
from app.chat.models import Message
from app.core.db import db


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/wechat"
    server.shutdown()
    thread.join(timeout=5)


def _chat(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["chat", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_say_as_the_first_bound_resident(app, live_url, make_resident, db_session):
    make_resident(name="孙阿姨", openid="o_sun")
    db_session.commit()
    assert _chat(app, "--url", live_url, "--say", "你好").startswith("孙阿姨，您好")
    db.session.expire_all()
    stored = db.session.scalar(select(Message).where(Message.direction == "in"))
    assert stored.content == "你好" and stored.payload["FromUserName"] == "o_sun"


def test_say_as_a_stranger_and_with_an_explicit_openid(app, live_url, clock):
    clock.at(10, 0)  # in business hours: off hours a handoff also says when staff start
    assert BIND_HINT in _chat(app, "--url", live_url, "--say", "能做什么")
    assert _chat(app, "--url", live_url, "--openid", "o_given", "--say", "转人工") == HUMAN_REPLY


def test_safe_mode_encrypts_and_decrypts(app, live_url, monkeypatch, clock):
    clock.at(10, 0)  # in business hours: off hours a handoff also says when staff start
    monkeypatch.setitem(app.config, "WECHAT_AES_KEY", base64.b64encode(b"k" * 32).decode().rstrip("="))
    assert _chat(app, "--url", live_url, "--aes", "--openid", "o_aes", "--say", "转人工") == HUMAN_REPLY


def test_an_unreachable_endpoint_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["chat", "--url", "http://127.0.0.1:9/wechat", "--say", "x"])
    assert result.exit_code != 0 and "无法连接" in result.output


def test_interactive_loop_reads_lines_until_eof(app, live_url, clock):
    clock.at(10, 0)  # in business hours: off hours a handoff also says when staff start
    result = app.test_cli_runner().invoke(args=["chat", "--url", live_url, "--openid", "o_loop"],
                                          input="/subscribe\n转人工\n")
    assert result.exit_code == 0, result.output
    assert "欢迎关注" in result.output and HUMAN_REPLY in result.output
