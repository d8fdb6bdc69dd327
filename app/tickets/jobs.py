"""Ticket jobs: staff alerts (WeChat Work when configured), the SLA breach check and auto-closing."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.core.errors import WeChatError
from app.core.timeline import SYSTEM
from app.tickets import dispatch as ticket_dispatch
from app.tickets import sla as ticket_sla
from app.tickets.models import Ticket
from app.tickets.records import CATEGORY_LABELS, KIND_LABELS, record_event
from app.wechat import send_wecom_text
from workers.context import job

log = logging.getLogger(__name__)
REASON_TITLES = {"new": "新工单", "urgent": "【紧急】新工单", "assigned": "派给您的工单",
                 "reopened": "住户重新打开的工单", "escalated": "【超时未受理】工单"}


def alert_text(ticket: Ticket, reason: str) -> str:
    """The staff alert for a ticket."""
    title = REASON_TITLES.get(reason, "工单")
    return (f"{title}：{KIND_LABELS[ticket.kind]}{ticket.number}\n{ticket.place} · "
            f"{CATEGORY_LABELS.get(ticket.category, '其他')}\n{ticket.description[:100]}\n请在管理后台处理。")


@job
def alert_staff(session: Session, ticket_id: int, reason: str) -> int:
    """Send the staff alert for a ticket over WeChat Work; returns how many staff it went to."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return 0
    staff = ticket_dispatch.recipients(session, ticket, reason)
    user_ids = sorted({s.wecom_userid for s in staff if s.wecom_userid})
    sent = False
    if user_ids:
        try:
            sent = send_wecom_text(current_app._get_current_object(), user_ids, alert_text(ticket, reason))
        except WeChatError as err:
            log.warning("ticket alert %s for %s failed: %s", reason, ticket.number, err.errcode)
    record_event(session, ticket, "alerted", SYSTEM, note=f"已提醒{len(staff)}位工作人员",
           data={"reason": reason, "wecom": sent, "staff_ids": [s.id for s in staff]})
    return len(user_ids) if sent else 0


@job
def check_sla(session: Session) -> int:
    """Escalate unaccepted tickets past their SLA and close resolved ones nobody rated in 7 days."""
    now = utcnow()
    late = ticket_sla.breached(session, now)
    for ticket in late:
        ticket_dispatch.escalate(session, ticket, now)
    for ticket in ticket_sla.stale_resolved(session, now):
        ticket_dispatch.auto_close(session, ticket, now)
    return len(late)
