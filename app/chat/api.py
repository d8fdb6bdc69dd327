"""The mini-program's chat box: the same chat core and dialog as /wechat, through /api/v1/chat."""

from __future__ import annotations

import secrets

from flask import current_app, jsonify
from pydantic import Field

from app.chat import core as chat
from app.chat.conversations import get_conversation, record_inbound
from app.chat.env import env_of
from app.core.db import db
from miniprogram_api.openapi import api_route
from miniprogram_api.tokens import current_openid
from miniprogram_api.validation import Body, RequiredText, Text

CHANNEL = "wxa"


class ChatMessage(Body):
    """One message typed into the chat box."""

    text: RequiredText(500) = Field(title="消息")
    client_msg_id: Text(64) = Field("", title="客户端消息号", description="重发同一条消息时不变，回复相同且不重复办理")


@api_route("/chat", methods=("POST",), summary="聊天框：和公众号一样的邻里助手", tags=("chat",),
           body=ChatMessage, responses={200: {"description": "回复", "type": "object", "properties": {
               "reply": {"type": "string", "nullable": True}}}})
def chat_message(body: ChatMessage):
    """One message from the mini-program's chat box; the reply comes from the same chat core and dialog.

    Like /wechat, the message is logged (staff see it in the conversation's history) and a resend with
    the same client_msg_id gets the stored reply instead of acting twice.
    """
    openid = current_openid()
    msg_id = body.client_msg_id or secrets.token_hex(8)
    conversation = get_conversation(db.session, CHANNEL, openid)
    message, created = record_inbound(db.session, conversation, msg_type="text", dedup_key=f"wxa:{openid}:{msg_id}",
                                      content=body.text)
    if not created:
        reply = message.reply
        db.session.rollback()  # a resend changes nothing, not even the conversation's last-seen time
        return jsonify({"reply": reply or None})
    reply = chat.handle_text(db.session, channel=CHANNEL, openid=openid, text=body.text, env=env_of(current_app))
    message.reply = reply or None
    return jsonify({"reply": reply or None})
