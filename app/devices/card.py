"""The 确认 / 处理完毕 buttons of an alarm's WeChat Work card (EventKey alarm:ack:<id>, alarm:resolve:<id>)."""

from __future__ import annotations

from sqlalchemy import select

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import AppError
from app.devices import alarms


def on_card(userid: str, key: str) -> str:
    """Acknowledge or resolve the alarm as the staff member bound to this WeChat Work user; the reply text."""
    parts = key.split(":")
    if len(parts) != 3 or parts[1] not in ("ack", "resolve") or not parts[2].isdigit():
        return "这个按钮已失效，请在物业后台处理。"
    staff = db.session.scalar(select(Staff).where(Staff.wecom_userid == userid, Staff.active.is_(True)))
    if staff is None:
        return "您的企业微信账号还没有关联物业后台账号，请联系管理员。"
    action = alarms.acknowledge if parts[1] == "ack" else alarms.resolve
    try:
        alarm = action(db.session, int(parts[2]), staff, now=utcnow())
        db.session.commit()
    except AppError as err:
        db.session.rollback()
        return f"未处理：{err.message}"
    return f"告警 #{alarm.id} 已{'确认收到' if parts[1] == 'ack' else '标记处理完毕'}。"
