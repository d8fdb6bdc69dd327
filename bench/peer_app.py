"""The peer for bench/wechat_roundtrip.py: the WeChat bot a typical team would write instead of linli.

Flask + Flask-SQLAlchemy; each POST /wechat checks the signature and parses the XML with wechatpy,
stores the message and updates the sender's session row through the ORM, commits (durably, like
linli: the message is on disk before the reply), picks a canned reply by jieba keyword match and
renders it with wechatpy. No timestamp window, replay guard, dedup, resident lookup or dialog: that
is the point of a peer. Served by gunicorn like the other apps, e.g.

    BENCH_PEER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/linli_bench \\
        .venv/bin/gunicorn -w 6 -k gthread --threads 2 bench.peer_app:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import jieba
from flask import Flask, Response, abort, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

TOKEN = os.environ.get("WECHAT_TOKEN", "bench-token")
URL = "postgresql+psycopg://" + os.environ.get(
    "BENCH_PEER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/linli_bench").split("://", 1)[1]

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = URL
db = SQLAlchemy(app)

KEYWORDS = {  # keyword -> canned reply, as a team writes it on day one
    "车位": "停车场实时余位请看公众号菜单“停车”，或到北门停车场。",
    "报修": "请描述问题和位置，物业会尽快安排师傅上门。",
    "漏水": "已记下漏水问题，物业会尽快安排师傅上门。",
    "修好": "您的报修正在处理中，师傅完成后会通知您。",
    "预约": "社区诊所预约请发送想约的项目和时间，护士站会和您确认。",
    "血压": "测血压可在健康小屋护士站，工作日上午 8:00–11:00。",
    "确认": "好的，已为您确认。",
    "你好": "您好！我是小区助手，可以问车位、报修、预约诊所。",
    "谢谢": "不客气，有事随时找我。",
}
DEFAULT = "您好！可以问车位、报修、预约诊所，或发送“转人工”。"


class PeerMessage(db.Model):
    __tablename__ = "peer_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    msg_id: Mapped[str | None] = mapped_column(String(64))
    msg_type: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class PeerSession(db.Model):
    __tablename__ = "peer_session"
    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_keyword: Mapped[str | None] = mapped_column(String(20))
    turns: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


with app.app_context():  # before gunicorn forks (--preload): tables, then no connection kept
    db.create_all()
    db.engine.dispose()
jieba.initialize()  # the dictionary, loaded once in the master


def seed_sessions(openids: list[str]) -> None:
    """A session row for each user, as a bot in use has for its regulars (linli's bench residents
    likewise have a conversation already)."""
    with app.app_context():
        now = datetime.now(UTC).replace(tzinfo=None)
        db.session.query(PeerSession).delete()
        db.session.add_all(PeerSession(openid=o, turns=0, updated_at=now) for o in openids)
        db.session.commit()
        db.engine.dispose()


def keyword_reply(content: str) -> tuple[str | None, str]:
    """The first known keyword among jieba's words, and its canned reply."""
    for word in jieba.lcut(content):
        if word in KEYWORDS:
            return word, KEYWORDS[word]
    return None, DEFAULT


@app.post("/wechat")
def wechat() -> Response:
    args = request.args
    try:
        check_signature(TOKEN, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        abort(403)
    message = parse_message(request.get_data())
    content = getattr(message, "content", "") or ""
    keyword, reply = keyword_reply(content)
    now = datetime.now(UTC).replace(tzinfo=None)
    db.session.add(PeerMessage(openid=message.source, msg_id=str(message.id), msg_type=message.type,
                               content=content, created_at=now))
    session = db.session.get(PeerSession, message.source)
    if session is None:
        session = PeerSession(openid=message.source, turns=0)
        db.session.add(session)
    session.turns += 1
    session.last_keyword, session.updated_at = keyword, now
    db.session.commit()
    xml = TextReply(source=message.target, target=message.source, content=reply).render()
    return Response(xml, mimetype="application/xml")
