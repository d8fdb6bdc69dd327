"""Who is told about a check, and what they get: the building's steward (then the grid worker) a WeChat Work
card with three buttons; the registered family contact a notification when they use linli (a resident with
that phone), otherwise a text kept in the check's timeline for staff to send or phone (no SMS gateway here)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Resident, Staff
from app.core.clock import to_local
from app.welfare import watch as watching
from app.welfare.models import WelfareCheck

BUTTONS = (("safe", "已探访·平安", 1), ("help", "需要帮助", 2), ("unreachable", "联系不上", 3))
KEY_OUTCOMES = {"safe": "safe", "help": "needs_help", "unreachable": "unreachable"}
ROLE_OF_LEVEL = {0: "steward", 1: "grid_worker"}


def staff_for(session: Session, check: WelfareCheck, level: int) -> list[Staff]:
    """The staff told at a level: the stewards of the building (the grid workers when it has none), or the
    grid workers covering it."""
    role = ROLE_OF_LEVEL.get(level)
    if role is None:
        return []
    rows = [s for s in session.scalars(select(Staff).where(Staff.community_id == check.community_id,
                                                           Staff.role == role, Staff.active.is_(True))
                                       .order_by(Staff.id))
            if s.covers_building(check.building)]
    if not rows and level == 0:
        return staff_for(session, check, 1)
    return rows


def family_resident(session: Session, check: WelfareCheck) -> Resident | None:
    """The family contact as a linli resident (same phone, still living with us), if they are one."""
    phone = check.watch.family_phone
    if not phone:
        return None
    return session.scalar(select(Resident).where(Resident.phone == phone, Resident.status == "active",
                                                 Resident.id != check.resident_id).order_by(Resident.id).limit(1))


def _who(check: WelfareCheck, now: datetime) -> str:
    resident = check.resident
    age = f"，{to_local(now).year - resident.birth_year}岁" if resident.birth_year else ""
    place = resident.household.label if resident.household else "住址未登记"
    return f"{place} {resident.name}{age}"


def card(check: WelfareCheck, level: int, now: datetime) -> dict:
    """The WeChat Work template card (button_interaction) for a check: who, which signals were silent, buttons."""
    lines = [{"keyname": "无动静", "value": watching.SIGNAL_LABELS.get(row["kind"], row["kind"])
              + ("（设备离线）" if row.get("unavailable") else "")
              + (f" 自{to_local(datetime.fromisoformat(row['since'])):%m-%d %H:%M}" if row.get("since") else "")}
             for row in check.silent[:5]]
    title = "独居老人关怀：请尽快上门探访" if level == 0 else "独居老人关怀：楼栋管家未确认，请协助探访"
    return {
        "card_type": "button_interaction",
        "source": {"desc": "邻里·独居老人关怀"},
        "main_title": {"title": title, "desc": _who(check, now)},
        "sub_title_text": f"已超过{watching.span_hours(check.watch.threshold_hours)}没有活动迹象",
        "horizontal_content_list": lines,
        "task_id": f"welfare-{check.id}-{level}",
        "button_list": [{"text": text, "style": style, "key": f"welfare:{key}:{check.id}"}
                        for key, text, style in BUTTONS],
    }


def family_text(check: WelfareCheck, now: datetime) -> str:
    """What the family contact is told."""
    resident = check.resident
    return (f"【邻里社区】您登记的家人{resident.name}（{resident.household.label if resident.household else ''}）"
            f"已有一段时间没有活动迹象，社区工作人员暂时没能确认其平安。请尽快联系家人，"
            f"或致电物业服务中心。（{to_local(now):%m月%d日 %H:%M}）")


def all_clear_text(check: WelfareCheck) -> str:
    """What staff who were told get when a sign of life closed the check before anyone went."""
    return f"独居老人关怀：{check.resident.name}已恢复活动（{check.outcome_note or '检测到活动'}），本次无需探访。"
