"""The chat core as a service: plain values in, a reply out, the conversation kept up to date."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.chat.core import BIND_HINT, HUMAN_REPLY, handle_text
from app.chat.menu import help_text
from app.chat.models import Conversation

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_greeting_human_and_everything_else(db_session, make_resident):
    make_resident(name="钱叔叔", openid="o_qian")
    assert handle_text(db_session, channel="oa", openid="o_qian", text="你好", now=NOW).startswith("钱叔叔，您好")
    assert handle_text(db_session, channel="oa", openid="o_qian", text="今天天气怎么样", now=NOW) == help_text()
    assert handle_text(db_session, channel="oa", openid="o_qian", text="转人工", now=NOW) == HUMAN_REPLY


def test_the_conversation_records_time_and_intent(db_session):
    handle_text(db_session, channel="wxa", openid="wxa_1", text="30幢还有临时车位吗", now=NOW)
    conversation = db_session.query(Conversation).filter_by(channel="wxa", openid="wxa_1").one()
    assert conversation.last_inbound_at == datetime(2026, 11, 24, 2, 0)  # naive UTC
    assert conversation.dialog["last_intent"]["intent"] == "parking_query"
    assert conversation.dialog["last_intent"]["slots"]["building"] == "30"


def test_strangers_get_the_menu_with_the_binding_hint_and_blank_text_is_fine(db_session):
    assert handle_text(db_session, channel="oa", openid="o_new", text="   ", now=NOW) == f"{help_text()}\n\n{BIND_HINT}"
    assert BIND_HINT in handle_text(db_session, channel="oa", openid="o_new", text="x" * 5000, now=NOW)
