"""Who hears of an alarm and how: the staff in scope for its building (property, repair workers, stewards;
an empty scope is the whole community), a WeChat Work card with 确认 / 处理完毕, and escalation to the
admins when nobody acknowledges in time, with reminders until someone does."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core import outbox
from app.core.clock import to_local
from app.devices.alarms import PAGED_ROLES, add_entry
from app.devices.models import SEVERITY_LABELS, TYPE_LABELS, Alarm

URGENT = ("critical", "major")


def recipients(session: Session, alarm: Alarm, *, escalated: bool = False) -> list[Staff]:
    """The active staff to page: those whose building scope covers the alarm's building, and the community's
    admins when escalated."""
    roles = (*PAGED_ROLES, "admin") if escalated else PAGED_ROLES
    staff = session.scalars(select(Staff).where(Staff.community_id == alarm.community_id, Staff.active.is_(True),
                                                Staff.role.in_(roles)).order_by(Staff.id)).all()
    number = alarm.building.number if alarm.building is not None else None
    return [s for s in staff if s.role == "admin" or number is None or s.covers_building(number)]


def card(alarm: Alarm, kind: str = "raised") -> dict:
    """The WeChat Work template card (button_interaction) for an alarm."""
    label = TYPE_LABELS.get(alarm.type, alarm.type)
    if alarm.group_key and alarm.group_key.startswith("flood:"):
        label = f"告警泛滥（首条：{label}）"
    lead = {"escalate": "【升级】无人确认 · ", "remind": "【提醒】仍未确认 · "}.get(kind, "")
    return {
        "card_type": "button_interaction",
        "source": {"desc": "邻里 · 设备告警"},
        "main_title": {"title": f"{lead}{label}（{SEVERITY_LABELS.get(alarm.severity, alarm.severity)}）",
                       "desc": alarm.location or "位置未知"},
        "horizontal_content_list": [
            {"keyname": "时间", "value": to_local(alarm.raised_at).strftime("%m-%d %H:%M:%S")},
            {"keyname": "编号", "value": f"#{alarm.id}"},
        ],
        "task_id": f"alarm-{alarm.id}-{alarm.escalation_level}-{kind}",
        "button_list": [{"text": "确认", "style": 1, "key": f"alarm:ack:{alarm.id}"},
                        {"text": "处理完毕", "style": 2, "key": f"alarm:resolve:{alarm.id}"}],
    }


def wants_page(alarm: Alarm, kind: str, now: datetime) -> bool:
    """Whether a page of this kind still makes sense (a reminder after an acknowledgement does not)."""
    if alarm.suppressed or (alarm.shelved_until is not None and alarm.shelved_until > now):
        return False
    if kind == "raised":
        return True
    return alarm.state == "active_unack"


def record_page(session: Session, alarm: Alarm, staff: list[Staff], sent: bool, now: datetime) -> None:
    """Note on the timeline whom the alarm was sent to."""
    names = "、".join(s.name for s in staff) or "无人（范围内没有在岗人员）"
    how = "企业微信卡片" if sent else "物业后台（企业微信未配置或无人绑定）"
    add_entry(session, alarm, "note", f"已通知 {names}：{how}", now=now)


def escalate_due(session: Session, now: datetime, *, urgent_minutes: int, minutes: int) -> list[int]:
    """Escalate unacknowledged alarms past their wait (to admins, then reminders every wait); pages go out
    through the outbox. Returns the alarms escalated or reminded."""
    rows = session.scalars(select(Alarm).where(Alarm.state == "active_unack", Alarm.suppressed.is_(False))
                           .order_by(Alarm.id)).all()
    done, groups = [], set()
    for alarm in rows:
        if alarm.group_key:
            if alarm.group_key in groups:
                continue  # a group escalates once, through its first alarm
            groups.add(alarm.group_key)
        if alarm.confirmed is False or (alarm.shelved_until is not None and alarm.shelved_until > now):
            continue
        wait = timedelta(minutes=urgent_minutes if alarm.severity in URGENT else minutes)
        if now < alarm.raised_at + wait * (alarm.escalation_level + 1):
            continue
        alarm.escalation_level += 1
        kind = "escalate" if alarm.escalation_level == 1 else "remind"
        text = f"{int(wait.total_seconds() // 60)} 分钟无人确认，" + ("升级给管理员" if kind == "escalate" else
                                                                     f"第 {alarm.escalation_level - 1} 次提醒")
        add_entry(session, alarm, kind, text, now=now)
        outbox.enqueue(session, "app.devices.jobs.page_alarm", alarm.id, kind, queue="high")
        done.append(alarm.id)
    return done
