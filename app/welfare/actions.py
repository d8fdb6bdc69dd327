"""The buttons of a welfare card in WeChat Work: 已探访·平安 (welfare:safe:<id>), 需要帮助 (welfare:help:<id>),
联系不上 (welfare:unreachable:<id>). A click is an entry point: it commits its own work, and is logged."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import AppError
from app.welfare import access, checks
from app.welfare.alerts import KEY_OUTCOMES

log = logging.getLogger(__name__)
NOT_STAFF = "您的企业微信账号还没有关联员工账号，请在物业后台处理。"
NOT_ALLOWED = "您的岗位不能处理独居关怀提醒。"
DONE = {"safe": "已记录：已探访·平安。谢谢！", "needs_help": "已记录：需要帮助。请在物业后台补充情况和照片。",
        "unreachable": "已记录：联系不上。已同时通知网格员和家属，请继续设法联系。"}


def on_card(userid: str, key: str) -> str:
    """Card action (prefix welfare): record the outcome a staff member clicked; the text shown back to them."""
    parts = key.split(":")
    if len(parts) != 3 or parts[1] not in KEY_OUTCOMES or not parts[2].isdigit() or len(parts[2]) > 10:
        return "无法识别的操作，请在物业后台处理。"
    staff = db.session.scalar(select(Staff).where(Staff.wecom_userid == userid, Staff.active.is_(True)).limit(1))
    if staff is None:
        return NOT_STAFF
    if staff.role not in access.VIEW_ROLES:
        return NOT_ALLOWED
    outcome = KEY_OUTCOMES[parts[1]]
    try:
        check = checks.check_for_staff(db.session, int(parts[2]), staff)
        checks.record_outcome(db.session, check, staff, outcome, utcnow())
        access.log(db.session, staff, action="edit", purpose="welfare_check", ip=None,
                   session_ref=f"wecom:{userid}"[:64], resident_id=check.resident_id,
                   detail=f"提醒 #{check.id}：{checks.OUTCOME_LABELS[outcome]}")
        db.session.commit()
    except AppError as err:
        db.session.rollback()
        return f"未记录：{err.message}"
    log.info("welfare: %s marked check %s %s", staff.username, parts[2], outcome)
    return DONE[outcome]
