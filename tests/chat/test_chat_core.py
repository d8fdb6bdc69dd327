"""The chat core as a service: plain values in, a reply out, the conversation kept up to date."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.chat.conversations import get_conversation, record_inbound
from app.chat.core import BIND_HINT, HUMAN_REPLY, handle_text
from app.chat.menu import help_text
from app.escalations.replies import HINT_HEAD

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_greeting_human_and_everything_else(db_session, make_resident):
    make_resident(name="钱叔叔", openid="o_qian")
    assert handle_text(db_session, channel="oa", openid="o_qian", text="你好", now=NOW).startswith("钱叔叔，您好")
    assert handle_text(db_session, channel="oa", openid="o_qian", text="今天天气怎么样", now=NOW).startswith(HINT_HEAD)
    assert handle_text(db_session, channel="oa", openid="o_qian", text="转人工", now=NOW) == HUMAN_REPLY


def test_the_conversation_records_time_and_the_message_its_parse(db_session):
    conversation = get_conversation(db_session, "wxa", "wxa_1")
    message, _ = record_inbound(db_session, conversation, msg_type="text", dedup_key="wxa:wxa_1:1",
                                content="30幢还有临时车位吗")
    handle_text(db_session, channel="wxa", openid="wxa_1", text="30幢还有临时车位吗", now=NOW)
    assert conversation.last_inbound_at == datetime(2026, 11, 24, 2, 0)  # naive UTC
    assert message.payload["parse"]["intent"] == "parking_query"
    assert message.payload["parse"]["slots"]["building"] == "30"
    assert "last_intent" not in conversation.dialog  # the conversation keeps state, not a log


def test_strangers_get_the_menu_with_the_binding_hint_and_blank_text_is_fine(db_session):
    assert handle_text(db_session, channel="oa", openid="o_new", text="   ", now=NOW) == f"{help_text()}\n\n{BIND_HINT}"
    assert BIND_HINT in handle_text(db_session, channel="oa", openid="o_new", text="x" * 5000, now=NOW)
