"""`flask chat --say` talks to a live server exactly as WeChat would, in plain and safe mode."""

from __future__ import annotations

import base64
import io
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app.chat.core import BIND_HINT, HUMAN_REPLY
from app.chat.models import Message
from app.community.models import Staff
from app.core.db import db
from app.escalations import escalations
from app.escalations.models import Escalation


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


def test_the_default_endpoint_follows_port_and_host():
    from bots.simulator import default_url

    assert default_url({}) == "http://127.0.0.1:5000/wechat"
    assert default_url({"PORT": "5123"}) == "http://127.0.0.1:5123/wechat"
    assert default_url({"HOST": "0.0.0.0", "PORT": "8000"}) == "http://127.0.0.1:8000/wechat"


class _Lines(io.RawIOBase):
    """Stdin for the interactive loop: one line per read, running `before[line]` just before handing it out."""

    def __init__(self, lines: list[str], before: dict) -> None:
        self.lines, self.before = list(lines), before

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.lines:
            return 0
        line = self.lines.pop(0)
        if line in self.before:
            self.before[line]()
        data = f"{line}\n".encode()
        buffer[: len(data)] = data
        return len(data)


def test_what_reaches_the_resident_later_is_shown(app, live_url, make_resident, make_staff, db_session, clock,
                                                 run_jobs):
    clock.at(10, 0)  # in business hours
    make_resident("3", "2", "1201", name="孙阿姨", openid="o_later")
    staff = make_staff("property")
    db_session.commit()
    staff_id = staff.id

    def staff_answer() -> None:  # staff answer in the console while the resident's chat is open
        session = db.session
        escalation = session.scalar(select(Escalation))
        person = session.get(Staff, staff_id)
        escalations.claim(session, escalation.id, person)
        escalations.reply(session, escalation.id, person, "您好，师傅下午两点上门")
        session.commit()
        run_jobs()  # the worker sends it (in-process here; `make run` has its own)

    stdin = io.BufferedReader(_Lines(["转人工", "/later"], {"/later": staff_answer}))
    result = app.test_cli_runner().invoke(args=["chat", "--url", live_url, "--openid", "o_later"], input=stdin)
    assert result.exit_code == 0, result.output
    assert HUMAN_REPLY in result.output
    assert "（稍后收到）" in result.output and "师傅下午两点上门" in result.output


def test_message_text_reads_custom_and_template_messages():
    from bots.simulator import message_text

    assert message_text({"msgtype": "text", "text": {"content": "您好"}}) == "您好"
    data = {"thing1": {"value": "电梯"}, "phrase2": {"value": "已派单"}}
    template = {"touser": "o", "template_id": "T", "data": data}
    assert message_text(template) == "电梯；已派单"


def test_the_fake_is_found_where_make_run_wrote_it(tmp_path):
    from bots.simulator import fake_base_url

    written = tmp_path / "fakewechat.url"
    assert fake_base_url({}, None, written) is None
    written.write_text("http://127.0.0.1:40123\n", encoding="utf-8")
    assert fake_base_url({}, None, written) == "http://127.0.0.1:40123"
    assert fake_base_url({"WECHAT_API_BASE_URL": "http://127.0.0.1:9"}, None, written) == "http://127.0.0.1:9"
    assert fake_base_url({"WECHAT_API_BASE_URL": "https://api.weixin.qq.com"}, None, written) == "http://127.0.0.1:40123"
    assert fake_base_url({}, "http://given", written) == "http://given"
