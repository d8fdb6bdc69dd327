"""Escalation jobs: alert staff, deliver staff replies and the satisfaction question, check SLAs, and give
conversations nobody touched for a long while back to the bot.

Each job claims its row with a conditional UPDATE and commits before sending, so a job that RQ
runs twice sends at most once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from app.chat.conversations import record_outbound
from app.chat.models import Conversation, Message
from app.community.models import Resident
from app.core.clock import utcnow
from app.core.errors import AppError, WeChatError
from app.core.redis_conn import get_redis
from app.escalations import business_hours, replies
from app.escalations import escalations as svc
from app.escalations.models import OPEN_STATUSES, Escalation
from app.notify.notify import notify
from app.wechat import send_customer_text, send_wecom_text
from workers.context import job

log = logging.getLogger(__name__)
DEFAULT_REPLY_LINK = "pages/chat/index"
PING_EVERY_SECONDS = 300  # one "the resident wrote" ping per conversation per 5 minutes
IDLE_RETURN_HOURS = 24  # ESCALATION_IDLE_RETURN_HOURS: silence (both sides) after which the bot takes over again


def _app() -> Flask:
    return current_app._get_current_object()


def _where(escalation: Escalation) -> str:
    resident = escalation.resident
    if resident is None:
        return "未绑定用户"
    label = resident.household.label if resident.household else ""
    return f"{label} {resident.name}".strip()


def _wecom(app: Flask, user_ids: list[str], text: str) -> str:
    """Send a WeChat Work text; the channel that carried the alert (wecom, or console only)."""
    if not user_ids:
        return "console"
    try:
        return "wecom" if send_wecom_text(app, user_ids, text) else "console"
    except WeChatError as err:
        log.warning("escalation alert via WeChat Work failed: %s", err.errcode)
        return "console"


@job
def alert_staff(session: Session, escalation_id: int) -> str:
    """Tell the staff who cover an escalation (WeChat Work when configured; the console's escalation queue always)."""
    app = _app()
    taken = session.execute(update(Escalation).where(Escalation.id == escalation_id,
                                                     Escalation.alerted_at.is_(None))
                            .values(alerted_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not taken:
        return "already_alerted"
    escalation = session.get(Escalation, escalation_id)
    hours = business_hours.from_config(app.config)
    escalation.first_response_due, escalation.resolution_due = business_hours.due_times(
        hours, escalation.created_at, urgent=escalation.urgent)
    session.commit()  # the claim is durable before anything is sent
    head = "【紧急】" if escalation.urgent else ""
    text = (f"{head}转人工 {escalation.number}：{_where(escalation)}\n“{escalation.summary[:100]}”\n"
            f"请在物业后台处理，或在企业微信回复“{escalation.number} 回复内容”。")
    users = [s.wecom_userid for s in svc.handlers_for(session, escalation) if s.wecom_userid]
    escalation.alert_channel = _wecom(app, users, text)
    return escalation.alert_channel


@job
def ping_assignee(session: Session, escalation_id: int, text: str) -> str:
    """Tell the staff member holding a conversation that the resident wrote (at most every few minutes)."""
    app = _app()
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or not escalation.is_open or escalation.assignee is None:
        return "nobody"
    if not escalation.assignee.wecom_userid:
        return "console"
    if not get_redis(app).set(f"escalation:ping:{escalation_id}", 1, nx=True, ex=PING_EVERY_SECONDS):
        return "throttled"
    return _wecom(app, [escalation.assignee.wecom_userid],
                  f"住户有新消息 {escalation.number}（{_where(escalation)}）：“{text[:80]}”")


def _resident(session: Session, conversation: Conversation) -> Resident | None:
    return session.get(Resident, conversation.resident_id) if conversation.resident_id else None


def _deliver(app: Flask, session: Session, message: Message, text: str) -> str:
    """Send one outbound message: through notify() for residents, else a customer-service text."""
    conversation = session.get(Conversation, message.conversation_id)
    resident = _resident(session, conversation)
    payload = dict(message.payload or {})
    if resident is not None:
        try:
            note = notify(session, resident.id, category="service", text=text, urgent=True, template="reply",
                          link=app.config.get("ESCALATION_REPLY_LINK") or DEFAULT_REPLY_LINK)
        except AppError as err:
            message.delivery, message.payload = "failed", {**payload, "reason": err.message}
            return message.delivery
        message.delivery, message.payload = "notified", {**payload, "notification_id": note.id}
        return message.delivery
    if conversation.channel != "oa":
        message.delivery, message.payload = "failed", {**payload, "reason": "未绑定的小程序用户无法推送"}
        return message.delivery
    try:
        send_customer_text(app, conversation.openid, text)
    except WeChatError as err:
        message.delivery, message.payload = "failed", {**payload, "reason": f"微信拒绝（{err.errcode}）"}
        return message.delivery
    message.delivery = "sent"
    return message.delivery


def _claim_message(session: Session, message_id: int) -> Message | None:
    taken = session.execute(update(Message).where(Message.id == message_id, Message.direction == "out",
                                                  Message.delivery == "queued")
                            .values(delivery="sending").execution_options(synchronize_session=False)).rowcount
    if not taken:
        return None
    session.commit()
    return session.get(Message, message_id)


@job
def deliver_reply(session: Session, message_id: int) -> str:
    """Deliver a staff reply to the resident; its Message.delivery says what happened."""
    message = _claim_message(session, message_id)
    if message is None:
        return "already_handled"
    name = (message.payload or {}).get("staff_name") or "工作人员"
    return _deliver(_app(), session, message, f"物业{name}回复：{message.content}")


@job
def ask_satisfaction(session: Session, escalation_id: int) -> str:
    """Ask the resident, once, how satisfied they are after a resolution."""
    taken = session.execute(update(Escalation).where(Escalation.id == escalation_id,
                                                     Escalation.satisfaction_asked_at.is_(None))
                            .values(satisfaction_asked_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
    if not taken:
        return "already_asked"
    escalation = session.get(Escalation, escalation_id)
    message = record_outbound(session, escalation.conversation, svc.SATISFACTION_QUESTION, delivery="sending",
                              payload={"escalation_id": escalation_id, "kind": "satisfaction"})
    session.commit()
    return _deliver(_app(), session, message, svc.SATISFACTION_QUESTION)


def _claim_breaches(session: Session, column, condition) -> list[int]:
    now = utcnow()
    ids = list(session.scalars(select(Escalation.id).where(
        Escalation.status.in_(OPEN_STATUSES), column.is_(None), condition(now))))
    claimed = []
    for escalation_id in ids:  # one conditional update each: two checkers never both claim a breach
        if session.execute(update(Escalation).where(Escalation.id == escalation_id, column.is_(None))
                           .values({column.key: now}).execution_options(synchronize_session=False)).rowcount:
            claimed.append(escalation_id)
    return claimed


@job
def check_sla(session: Session) -> int:
    """Escalate every newly breached first-response or resolution target to the supervisors."""
    app = _app()
    first = _claim_breaches(session, Escalation.first_response_breached_at, lambda now: and_(
        Escalation.first_response_at.is_(None), Escalation.first_response_due < now))
    resolution = _claim_breaches(session, Escalation.resolution_breached_at,
                                 lambda now: Escalation.resolution_due < now)
    session.commit()
    for kind, ids in (("首次响应", first), ("解决", resolution)):
        for escalation_id in ids:
            escalation = session.get(Escalation, escalation_id)
            who = escalation.assignee.name if escalation.assignee else "无人接手"
            text = (f"【超时】转人工 {escalation.number} 已超过{kind}时限（{who}）：{_where(escalation)}\n"
                    f"“{escalation.summary[:80]}”")
            users = [s.wecom_userid for s in svc.supervisors_for(session, escalation) if s.wecom_userid]
            _wecom(app, users, text)
    if first or resolution:
        log.info("SLA: %d first-response and %d resolution breaches escalated", len(first), len(resolution))
    return len(first) + len(resolution)


@job
def return_idle(session: Session) -> int:
    """Give every held conversation whose escalation saw no activity from either side for
    ESCALATION_IDLE_RETURN_HOURS back to the bot, and tell the resident so (once)."""
    app = _app()
    idle_hours = float(app.config.get("ESCALATION_IDLE_RETURN_HOURS") or IDLE_RETURN_HOURS)
    now = utcnow()
    cutoff = now - timedelta(hours=idle_hours)
    idle = and_(Escalation.status.in_(OPEN_STATUSES), Escalation.last_activity_at < cutoff)
    messages = []
    for escalation_id in list(session.scalars(select(Escalation.id).where(idle))):
        # claimed with one conditional update: a resident writing meanwhile, or a second run, keeps it
        if not session.execute(update(Escalation).where(Escalation.id == escalation_id, idle)
                               .values(status="timed_out", resolved_at=now)
                               .execution_options(synchronize_session=False)).rowcount:
            continue
        escalation = session.get(Escalation, escalation_id)
        session.refresh(escalation)
        svc.returned_to_bot(session, escalation, idle_hours)
        messages.append(record_outbound(session, escalation.conversation, replies.returned_idle(idle_hours),
                                        delivery="sending", payload={"escalation_id": escalation_id,
                                                                     "kind": "idle_return"}))
    session.commit()  # closed before anything is sent: a rerun sends nothing twice
    for message in messages:
        _deliver(app, session, message, message.content)
    if messages:
        log.info("escalations: %d idle conversations returned to the bot", len(messages))
    return len(messages)
