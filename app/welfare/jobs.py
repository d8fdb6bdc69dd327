"""Welfare jobs: the sweep (every 5 minutes) and the alerts it queues (cards to staff, the family's message)."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.core.errors import WeChatError
from app.core.timeline import SYSTEM
from app.notify.notify import notify
from app.wechat import calls
from app.welfare import alerts
from app.welfare.checks import LEVEL_LABELS, add_entry
from app.welfare.models import WelfareCheck
from app.welfare.sweep import sweep
from workers.context import job

log = logging.getLogger(__name__)


@job
def run_check(session: Session) -> dict:
    """The periodic welfare check over every watched resident."""
    report = sweep(session, utcnow())
    if report.raised or report.escalated or report.orders:
        log.info("welfare: %s", report)
    return report.__dict__


@job
def send_alert(session: Session, check_id: int, level: int) -> int:
    """Tell a level about a check (0 steward, 1 grid worker, 2 family; -1: all clear to staff told before)."""
    check = session.get(WelfareCheck, check_id)
    if check is None:
        return 0
    now = utcnow()
    if level == -1:
        return _all_clear(session, check)
    if check.status != "open":
        return 0
    if level == 2:
        return _tell_family(session, check, now)
    staff = alerts.staff_for(session, check, level)
    user_ids = sorted({s.wecom_userid for s in staff if s.wecom_userid})
    sent = False
    if user_ids:
        try:
            sent = calls.send_wecom_card(current_app._get_current_object(), user_ids, alerts.card(check, level, now))
        except WeChatError as err:
            log.warning("welfare card for check %s failed: %s", check.id, err.errcode)
    if check.notified_at is None:
        check.notified_at = now
    names = "、".join(s.name for s in staff) or "（无人负责该楼栋）"
    how = "企业微信卡片" if sent else "管理后台"
    add_entry(session, check, "notified", SYSTEM, now, note=f"已通知{LEVEL_LABELS[level]}{names}（{how}）",
              data={"level": level, "staff_ids": [s.id for s in staff], "wecom": sent})
    return len(user_ids) if sent else 0


def _tell_family(session: Session, check: WelfareCheck, now) -> int:
    watch = check.watch
    relative = alerts.family_resident(session, check)
    text = alerts.family_text(check, now)
    if relative is not None:
        notify(session, relative.id, category="safety", text=text, urgent=True, now=now)
        add_entry(session, check, "notified", SYSTEM, now,
                  note=f"已通知家属{watch.family_name or relative.name}（邻里消息）",
                  data={"level": 2, "resident_id": relative.id, "channel": "notify"})
        return 1
    if watch.family_phone:
        add_entry(session, check, "sms", SYSTEM, now,
                  note=f"请电话或短信联系家属{watch.family_name or ''} {watch.family_phone}",
                  data={"level": 2, "phone": watch.family_phone, "text": text, "channel": "sms", "status": "to_send"})
        return 1
    add_entry(session, check, "notified", SYSTEM, now, note="未登记家属联系人，请工作人员继续跟进",
              data={"level": 2, "channel": "none"})
    return 0


def _all_clear(session: Session, check: WelfareCheck) -> int:
    told = {sid for e in check.entries if e.kind == "notified" for sid in e.data.get("staff_ids", [])}
    staff = [s for s in alerts.staff_for(session, check, 0) + alerts.staff_for(session, check, 1) if s.id in told]
    user_ids = sorted({s.wecom_userid for s in staff if s.wecom_userid})
    if not user_ids:
        return 0
    try:
        calls.send_wecom_text(current_app._get_current_object(), user_ids, alerts.all_clear_text(check))
    except WeChatError as err:
        log.warning("welfare all-clear for check %s failed: %s", check.id, err.errcode)
        return 0
    return len(user_ids)
