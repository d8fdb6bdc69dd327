"""E-bikes in lifts (电梯内电动车): the lift gateway's detection holds the doors and plays the warning at once
(commands published in the handler, no queue), raises an alarm, and releases the doors when the bike leaves
or, whatever answers, by the fail-safe (the hold itself carries max_hold_s so the gateway lets go on its own;
the sweep sends release_doors as well). An e-bike tag registered to a resident turns a repeat into a polite
notice to its owner."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.community.models import Resident
from app.core.errors import NotFound, ValidationFailed
from app.devices import alarms, commands
from app.devices.models import Alarm, Device, DeviceEvent
from app.devices.rule_models import EbikeTag, LiftCase
from app.notify.notify import notify

FAILSAFE_S = 45  # ≤ 60 s: the doors are released by then even if nothing answers (sweep every 10 s)
MAX_FAILSAFE_S = 60
COMMAND_TIMEOUT_S = 3  # a lift gateway answers within this or the command is retried
REPEAT_WINDOW = timedelta(days=30)
NOTICE_GAP = timedelta(days=1)  # at most one notice a day to the same owner
NOTICE = ("您好，您登记的电动车（标签 {tag}）近期第 {count} 次被电梯识别进入轿厢。为了大家的安全，"
          "电动车请停放在集中车棚充电，不要推进电梯和楼道。感谢您的理解与配合！")


def failsafe_s(device: Device) -> int:
    """The device's fail-safe hold limit in seconds (settings.failsafe_s, at most 60)."""
    value = (device.settings or {}).get("failsafe_s", FAILSAFE_S)
    value = value if isinstance(value, int | float) and not isinstance(value, bool) else FAILSAFE_S
    return int(min(max(value, 5), MAX_FAILSAFE_S))


def open_case(session: Session, device_id: int) -> LiftCase | None:
    """The lift's case whose doors are still held, if any."""
    return session.scalar(select(LiftCase).where(LiftCase.device_id == device_id, LiftCase.released_at.is_(None))
                          .order_by(LiftCase.id.desc()).limit(1))


def _tag(payload: dict) -> str | None:
    tag = payload.get("tag") or payload.get("ebike_tag")
    return str(tag).strip()[:64] if isinstance(tag, str | int) and not isinstance(tag, bool) and str(tag).strip() \
        else None


def on_ebike_detected(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """Hold the doors and play the warning first (the ≤ 300 ms path), then the alarm and the case."""
    case = open_case(session, device.id)
    limit = failsafe_s(device)
    if case is None:
        hold = commands.send_command(session, device, "hold_doors", {"max_hold_s": limit}, now=now,
                                     timeout_s=COMMAND_TIMEOUT_S, retries=2, reason="电梯内检测到电动车")
        warn = commands.send_command(session, device, "play_warning", {"message": "ebike"}, now=now,
                                     timeout_s=COMMAND_TIMEOUT_S, retries=2, reason="电梯内检测到电动车")
    else:
        hold = warn = None  # already held: the first hold's fail-safe still runs
    tag = _tag(event.payload or {})
    owner = session.scalar(select(EbikeTag).where(EbikeTag.community_id == device.community_id,
                                                  EbikeTag.tag == tag)) if tag else None
    alarm = alarms.raise_alarm(session, community_id=device.community_id, type="ebike_in_lift", severity="major",
                               now=now, device_id=device.id, building_id=device.building_id,
                               location=device.location or device.name,
                               details={"tag": tag, "registered": owner is not None,
                                        "confidence": (event.payload or {}).get("confidence")})
    for command in (hold, warn):
        if command is not None:
            command.alarm_id = alarm.id
    if case is None:
        case = LiftCase(community_id=device.community_id, device_id=device.id, alarm_id=alarm.id, tag=tag,
                        resident_id=owner.resident_id if owner else None, detected_at=now,
                        release_due_at=now + timedelta(seconds=limit), notified=False)
        session.add(case)
    elif tag and not case.tag:
        case.tag, case.resident_id = tag, owner.resident_id if owner else None
    session.flush()
    if owner is not None:
        _maybe_notice(session, case, owner, now)


def _maybe_notice(session: Session, case: LiftCase, owner: EbikeTag, now: datetime) -> None:
    """A repeat (2nd or later case of this tag in 30 days): a polite notice, at most one a day."""
    count = session.scalar(select(func.count()).select_from(LiftCase).where(
        LiftCase.community_id == case.community_id, LiftCase.tag == owner.tag,
        LiftCase.detected_at > now - REPEAT_WINDOW)) or 0
    if count < 2 or case.notified:
        return
    recent = session.scalar(select(func.count()).select_from(LiftCase).where(
        LiftCase.resident_id == owner.resident_id, LiftCase.notified.is_(True),
        LiftCase.detected_at > now - NOTICE_GAP)) or 0
    if recent:
        return
    # a property notice, not a safety alert: it waits out the resident's quiet hours
    notify(session, owner.resident_id, category="property", text=NOTICE.format(tag=owner.tag, count=count),
           template="notice", now=now)
    case.notified = True
    session.flush()


def release(session: Session, device: Device, case: LiftCase, now: datetime, why: str) -> None:
    """Send release_doors and close the case (why: left | failsafe)."""
    text = "电动车已离开，释放电梯门" if why == "left" else f"{failsafe_s(device)} 秒保护时限到，自动释放电梯门"
    commands.send_command(session, device, "release_doors", {}, now=now, timeout_s=COMMAND_TIMEOUT_S, retries=2,
                          reason=text, alarm_id=case.alarm_id)
    case.released_at, case.release_reason = now, why
    if why == "left":
        alarms.clear_alarm(session, device_id=device.id, type="ebike_in_lift", now=now, text=text)
    elif case.alarm_id is not None:
        alarm = session.get(Alarm, case.alarm_id)
        if alarm is not None:
            alarms.add_entry(session, alarm, "command", text, now=now)
    session.flush()


def on_ebike_left(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """The bike left the car: release the doors (once) and clear the alarm."""
    case = open_case(session, device.id)
    if case is not None:
        release(session, device, case, now, "left")
    else:
        alarms.clear_alarm(session, device_id=device.id, type="ebike_in_lift", now=now, text="电动车已离开")


def sweep_holds(session: Session, now: datetime) -> int:
    """The fail-safe: release every hold whose time is up, whatever the gateway said; how many."""
    due = session.scalars(select(LiftCase).where(LiftCase.released_at.is_(None), LiftCase.release_due_at <= now)
                          .order_by(LiftCase.id)).all()
    for case in due:
        device = session.get(Device, case.device_id)
        if device is not None:
            release(session, device, case, now, "failsafe")
    return len(due)


def register_tag(session: Session, community_id: int, tag: str, resident_id: int) -> EbikeTag:
    """Register (or move) an e-bike tag to a resident of the community."""
    tag = (tag or "").strip()[:64]
    if not tag:
        raise ValidationFailed("请填写电动车标签号", code="ebike_tag_required")
    resident = session.get(Resident, resident_id)
    if resident is None or resident.community_id != community_id:
        raise NotFound("没有找到这位住户", code="resident_not_found")
    row = session.scalar(select(EbikeTag).where(EbikeTag.community_id == community_id, EbikeTag.tag == tag))
    if row is None:
        row = EbikeTag(community_id=community_id, tag=tag, resident_id=resident_id)
        session.add(row)
    row.resident_id = resident_id
    session.flush()
    return row
