"""Who is watched: consent, threshold, signals, modes (away, in hospital, visit in progress) and the due time.

A watch's due time is when its next check is raised: the last sign of life (or the end of the last
away / hospital / visit period, whichever is later) plus the person's threshold. It is kept on the row
(indexed), so the periodic sweep reads only the watches that are due, never all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Resident, Staff
from app.core.clock import to_local
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.devices.models import Device
from app.welfare.models import (
    DEFAULT_THRESHOLD_HOURS,
    DEVICE_SIGNALS,
    MODES,
    PERSON_SIGNALS,
    RISKS,
    SIGNALS,
    WelfareCheck,
    WelfareSignal,
    WelfareWatch,
)

ELDERLY_AGE = 80
ELDERLY_THRESHOLD_HOURS = 3 * 24  # suggested for 80+ (staff may set another)
HIGH_RISK_THRESHOLD_HOURS = 2 * 24
MIN_THRESHOLD_HOURS, MAX_THRESHOLD_HOURS = 12, 30 * 24
MAX_AWAY = timedelta(days=90)
VISIT_LENGTH = timedelta(hours=4)  # a visit in progress pauses the timer this long at most
MODE_LABELS = {"normal": "正常", "away": "外出", "hospital": "住院", "visit": "探访中"}
SIGNAL_LABELS = {"door_lock": "门锁开门", "water_meter": "用水", "power_meter": "用电", "card_reader": "电梯刷卡",
                 "chat": "发消息", "checkin": "报平安"}
RELATION_LABELS = {"self": "本人", "family": "家属"}


def suggested_threshold(resident: Resident, risk: str, year: int) -> int:
    """The default threshold in hours: 7 days; 3 days from age 80; 2 days at high risk."""
    if risk == "high":
        return HIGH_RISK_THRESHOLD_HOURS
    if resident.birth_year and year - resident.birth_year >= ELDERLY_AGE:
        return ELDERLY_THRESHOLD_HOURS
    return DEFAULT_THRESHOLD_HOURS


def household_signals(session: Session, resident: Resident) -> list[str]:
    """The signals a resident's household can give: its own locks and meters, and always chat and check-in."""
    kinds: set[str] = set()
    if resident.household_id is not None:
        kinds |= set(session.scalars(select(Device.kind).where(Device.household_id == resident.household_id,
                                                               Device.active.is_(True))))
    return [k for k in DEVICE_SIGNALS if k in kinds] + list(PERSON_SIGNALS)


def due_time(watch: WelfareWatch) -> datetime | None:
    """When the watch's next check is due (None when inactive)."""
    if not watch.active:
        return None
    start = watch.timer_from
    if watch.mode != "normal" and watch.mode_until is not None:
        start = max(start, watch.mode_until)
    return start + timedelta(hours=watch.threshold_hours)


def open_check(session: Session, watch_id: int) -> WelfareCheck | None:
    """The watch's open check, if one is."""
    return session.scalar(select(WelfareCheck).where(WelfareCheck.watch_id == watch_id,
                                                     WelfareCheck.status == "open").limit(1))


def refresh_due(session: Session, watch: WelfareWatch, *, check_open: bool | None = None) -> None:
    """Recompute the due time (none while a check is open)."""
    if check_open is None:
        check_open = open_check(session, watch.id) is not None
    watch.due_at = None if check_open else due_time(watch)


def _clean_signals(signals: list[str] | None, default: list[str]) -> list[str]:
    if signals is None:
        return default
    bad = [s for s in signals if s not in SIGNALS]
    if bad:
        raise ValidationFailed(f"没有这种信号：{bad[0]}", code="unknown_signal")
    return [s for s in SIGNALS if s in signals]


def _check_threshold(hours: int) -> int:
    if not MIN_THRESHOLD_HOURS <= hours <= MAX_THRESHOLD_HOURS:
        raise ValidationFailed("无动静提醒时间须在 12 小时到 30 天之间", code="bad_threshold")
    return hours


def _phone(value: str | None) -> str | None:
    value = (value or "").strip()
    if value and not (value.isdigit() and 7 <= len(value) <= 20):
        raise ValidationFailed("请填写正确的电话号码", code="bad_phone")
    return value or None


def start_watch(session: Session, resident: Resident, *, consent_by: str, relation: str, consented_at: datetime,
                now: datetime, consent_phone: str | None = None, staff: Staff | None = None,
                family_name: str | None = None, family_phone: str | None = None, risk: str = "normal",
                threshold_hours: int | None = None, signals: list[str] | None = None,
                lift_card: str | None = None) -> WelfareWatch:
    """Start watching a resident whose consent (theirs or a family member's on their behalf) is recorded."""
    consent_by = (consent_by or "").strip()[:50]
    if not consent_by:
        raise ValidationFailed("请填写同意人的姓名", code="consent_missing")
    if relation not in RELATION_LABELS:
        raise ValidationFailed("同意人须是本人或家属", code="bad_relation")
    if relation == "family" and not _phone(consent_phone):
        raise ValidationFailed("家属代为同意时，请填写家属电话", code="consent_phone_missing")
    if risk not in RISKS:
        raise ValidationFailed("风险等级只能是普通或高", code="bad_risk")
    if session.scalar(select(WelfareWatch.id).where(WelfareWatch.resident_id == resident.id)) is not None:
        raise Conflict("这位住户已在关怀名单中", code="already_watched")
    household = resident.household
    hours = _check_threshold(threshold_hours or suggested_threshold(resident, risk, to_local(now).year))
    watch = WelfareWatch(
        community_id=resident.community_id, resident_id=resident.id, household_id=resident.household_id,
        building=household.unit.building.number if household else "", consent_by=consent_by,
        consent_relation=relation, consent_phone=_phone(consent_phone), consented_at=consented_at,
        consent_recorded_by_id=staff.id if staff else None,
        family_name=(family_name or "").strip()[:50] or None, family_phone=_phone(family_phone),
        threshold_hours=hours, risk=risk, signals=_clean_signals(signals, household_signals(session, resident)),
        lift_card=(lift_card or "").strip()[:32] or None, mode="normal", last_activity_at=now,
        last_activity_kind="", timer_from=now, active=True, false_alarms=0, created_at=now, updated_at=now,
    )
    session.add(watch)
    refresh_due(session, watch, check_open=False)
    session.flush()
    return watch


def update_watch(session: Session, watch: WelfareWatch, *, now: datetime, threshold_hours: int | None = None,
                 risk: str | None = None, signals: list[str] | None = None, family_name: str | None = None,
                 family_phone: str | None = None, lift_card: str | None = None,
                 active: bool | None = None) -> WelfareWatch:
    """Change a watch's threshold, risk, signals, family contact, lift card or whether it is active."""
    if risk is not None:
        if risk not in RISKS:
            raise ValidationFailed("风险等级只能是普通或高", code="bad_risk")
        watch.risk = risk
    if threshold_hours is not None:
        watch.threshold_hours = _check_threshold(threshold_hours)
    if signals is not None:
        watch.signals = _clean_signals(signals, watch.signals)
    if family_name is not None:
        watch.family_name = family_name.strip()[:50] or None
    if family_phone is not None:
        watch.family_phone = _phone(family_phone)
    if lift_card is not None:
        watch.lift_card = lift_card.strip()[:32] or None
    if active is not None and active != watch.active:
        watch.active = active
        if active:
            watch.timer_from = now  # watching again starts a fresh timer
    watch.updated_at = now
    refresh_due(session, watch)
    session.flush()
    return watch


def set_mode(session: Session, watch: WelfareWatch, mode: str, *, until: datetime | None, by: str,
             now: datetime) -> WelfareWatch:
    """Away or in hospital until a time, a visit in progress, or back to normal; each ends by itself."""
    if mode not in MODES:
        raise ValidationFailed("没有这种状态", code="bad_mode")
    if mode == "normal":
        if watch.mode != "normal":
            watch.timer_from = max(watch.timer_from, now)  # back home: the timer starts now
        until = None
    elif mode == "visit":
        until = now + VISIT_LENGTH
    elif until is None or until <= now:
        raise ValidationFailed("请填写结束日期（须晚于现在）", code="bad_until")
    elif until - now > MAX_AWAY:
        raise ValidationFailed("外出或住院最长设置 90 天", code="until_too_far")
    watch.mode, watch.mode_until, watch.mode_set_by = mode, until, by[:60]
    watch.updated_at = now
    refresh_due(session, watch)
    session.flush()
    return watch


def end_expired_modes(session: Session, now: datetime) -> int:
    """Put every watch whose away, hospital or visit period has ended back to normal; how many."""
    rows = list(session.scalars(select(WelfareWatch).where(WelfareWatch.mode != "normal",
                                                           WelfareWatch.mode_until <= now)))
    for watch in rows:
        watch.timer_from = max(watch.timer_from, watch.mode_until)
        watch.mode, watch.mode_until, watch.mode_set_by = "normal", None, ""
        watch.updated_at = now
        refresh_due(session, watch)
    return len(rows)


def record_signal(session: Session, watch: WelfareWatch, kind: str, at: datetime, *,
                  device_id: int | None = None) -> WelfareSignal:
    """Note one sign of life of a kind at a time; the watch's last activity and timer move forward."""
    signal = signal_row(session, watch, kind)
    if signal.last_at is None or at > signal.last_at:
        signal.last_at = at
        signal.device_id = device_id or signal.device_id
    if at > watch.last_activity_at:
        watch.last_activity_at, watch.last_activity_kind = at, kind
    watch.timer_from = max(watch.timer_from, at)
    return signal


def signal_row(session: Session, watch: WelfareWatch, kind: str) -> WelfareSignal:
    """The watch's row for a kind of signal, created when missing."""
    for signal in watch.found_signals:
        if signal.kind == kind:
            return signal
    signal = WelfareSignal(watch=watch, kind=kind)
    session.add(signal)
    return signal


def watch_of_resident(session: Session, resident_id: int) -> WelfareWatch | None:
    """The active watch of a resident, if they are watched."""
    return session.scalar(select(WelfareWatch).where(WelfareWatch.resident_id == resident_id,
                                                     WelfareWatch.active.is_(True)))


def get_watch(session: Session, watch_id: int, community_id: int) -> WelfareWatch:
    """A watch of the community, or 404."""
    watch = session.get(WelfareWatch, watch_id)
    if watch is None or watch.community_id != community_id:
        raise NotFound("没有找到这位关怀对象", code="watch_not_found")
    return watch


def span_hours(hours: int) -> str:
    """A threshold in words: 7天, 36小时."""
    return f"{hours // 24}天" if hours % 24 == 0 else f"{hours}小时"
