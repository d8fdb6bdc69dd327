"""Checks: raised when a watched resident's signs of life stop for longer than their threshold, sent to the
building's steward, moved up to the grid worker and then the family when nobody acknowledges them, and
closed with the visit's outcome (or by a sign of life that comes before anyone went).

A device that is offline is not a silent person: a signal whose every device is offline is "unavailable",
and a watch whose device signals are all unavailable raises no check (its devices get a work order instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.community.models import Building, Staff
from app.core.clock import to_local
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.outbox import enqueue
from app.core.timeline import SYSTEM, Actor, record, staff_actor
from app.devices.models import Device
from app.welfare import watch as watching
from app.welfare.models import DEVICE_SIGNALS, OUTCOMES, WelfareCheck, WelfareCheckEntry, WelfareWatch

ESCALATE_AFTER = timedelta(hours=2)
ALERT_JOB = "app.welfare.jobs.send_alert"
MAX_NOTE = 500
OUTCOME_LABELS = {"safe": "已探访·平安", "needs_help": "需要帮助", "unreachable": "联系不上", "activity": "已恢复活动"}
LEVEL_LABELS = {0: "楼栋管家", 1: "网格员", 2: "家属"}
FALSE_ALARM_OUTCOMES = ("safe", "activity")  # the resident turned out to be fine


@dataclass
class SweepReport:
    """What one sweep did."""

    modes_ended: int = 0
    raised: int = 0
    blind: int = 0
    escalated: int = 0
    orders: int = 0


def add_entry(session: Session, check: WelfareCheck, kind: str, actor: Actor, now: datetime, *, note: str = "",
              data: dict | None = None, to_status: str | None = None) -> WelfareCheckEntry:
    """One line of a check's timeline."""
    entry = WelfareCheckEntry(check_id=check.id, data=data or {})
    return record(session, entry, kind, actor, note=note, to_status=to_status, now=now)


def available_kinds(session: Session, watches: list[WelfareWatch]) -> dict[int, set[str]]:
    """For each watch (by id), the device signals some online device can give now (one query per kind of place)."""
    households = {w.household_id for w in watches if w.household_id is not None}
    by_household: dict[int, set[str]] = {}
    if households:
        rows = session.execute(select(Device.household_id, Device.kind).where(
            Device.household_id.in_(households), Device.active.is_(True), Device.online.is_(True)))
        for household_id, kind in rows:
            by_household.setdefault(household_id, set()).add(kind)
    readers: set[int] = set()
    if any("card_reader" in w.signals for w in watches):
        community_ids = {w.community_id for w in watches}
        readers = {(c, n) for c, n in session.execute(
            select(Building.community_id, Building.number).join(Device, Device.building_id == Building.id).where(
                Building.community_id.in_(community_ids), Device.kind == "card_reader", Device.active.is_(True),
                Device.online.is_(True)))}
    return {w.id: by_household.get(w.household_id, set())
            | ({"card_reader"} if (w.community_id, w.building) in readers else set()) for w in watches}


def silence(session: Session, watch: WelfareWatch, available: set[str] | None = None) -> tuple[list[dict], bool]:
    """Each watched signal that was silent, since when (or "unavailable": its devices are offline); and
    whether the person is hidden from us (they have device signals and none of them can be heard)."""
    if available is None:
        available = available_kinds(session, [watch])[watch.id]
    seen = {s.kind: s.last_at for s in watch.found_signals}
    rows, device_kinds = [], [k for k in watch.signals if k in DEVICE_SIGNALS]
    for kind in watch.signals:
        since = seen.get(kind)
        rows.append({"kind": kind, "since": since.isoformat() if since else None,
                     "unavailable": kind in DEVICE_SIGNALS and kind not in available})
    blind = bool(device_kinds) and not any(k in available for k in device_kinds)
    return rows, blind


def raise_check(session: Session, watch: WelfareWatch, now: datetime) -> WelfareCheck | None:
    """Open a check for a due watch and send it to the building's steward; None when its devices are all down."""
    return raise_checks(session, [watch], now)[0]


def raise_checks(session: Session, watches: list[WelfareWatch], now: datetime) -> list[WelfareCheck | None]:
    """raise_check for many watches at once (one flush, one device query): the sweep's path."""
    available = available_kinds(session, watches)
    out: list[WelfareCheck | None] = []
    with session.no_autoflush:
        for watch in watches:
            silent, blind = silence(session, watch, available[watch.id])
            if blind:
                out.append(None)
                continue
            out.append(WelfareCheck(community_id=watch.community_id, watch_id=watch.id, resident_id=watch.resident_id,
                                    building=watch.building, status="open", level=0, raised_at=now, silent=silent,
                                    crossed_at=watching.due_time(watch) or now))
            watch.due_at = None
    session.add_all([c for c in out if c is not None])
    session.flush()
    for check in out:
        if check is not None:
            add_entry(session, check, "raised", SYSTEM, now, note=describe_silence(check.silent, now),
                      to_status="open", data={"crossed_at": check.crossed_at.isoformat()})
            enqueue(session, ALERT_JOB, check.id, 0, queue="high")
    return out


def describe_silence(silent: list[dict], now: datetime) -> str:
    """Which signals were silent and since when, in words: 门锁开门：自 5月3日 08:10 起无动静（7天2小时）."""
    parts = []
    for row in silent:
        label = watching.SIGNAL_LABELS.get(row["kind"], row["kind"])
        if row.get("unavailable"):
            parts.append(f"{label}：设备离线，无法判断")
        elif row["since"] is None:
            parts.append(f"{label}：登记以来没有记录")
        else:
            since = datetime.fromisoformat(row["since"])
            parts.append(f"{label}：自{to_local(since):%m月%d日 %H:%M}起无动静（{span(now - since)}）")
    return "；".join(parts)


def span(delta: timedelta) -> str:
    """A length of time as people say it: 7天2小时, 5小时, 20分钟."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, hours = minutes // 1440, minutes % 1440 // 60
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    return f"{hours}小时" if hours else f"{minutes}分钟"


def raise_due(session: Session, now: datetime, report: SweepReport, batch: int = 500) -> None:
    """Open a check for every watch whose due time has come (the indexed due_at finds them), a batch at a time."""
    while True:
        rows = list(session.scalars(select(WelfareWatch).where(WelfareWatch.active.is_(True),
                                                               WelfareWatch.due_at <= now)
                                    .options(selectinload(WelfareWatch.found_signals))
                                    .order_by(WelfareWatch.due_at).limit(batch)))
        if not rows:
            return
        paused = [w for w in rows if w.mode != "normal"]  # until their mode ends (end_expired_modes ran first)
        for watch in paused:
            watching.refresh_due(session, watch, check_open=False)
        due = [w for w in rows if w.mode == "normal"]
        for watch, check in zip(due, raise_checks(session, due, now), strict=True):
            if check is None:
                report.blind += 1
                watch.due_at = now + timedelta(hours=1)  # looked at again in an hour, as devices come back
            else:
                report.raised += 1
        session.flush()


def escalate_unacknowledged(session: Session, now: datetime, report: SweepReport) -> None:
    """Move every check nobody acknowledged within 2 hours up a level: grid worker, then family."""
    rows = session.scalars(select(WelfareCheck).where(WelfareCheck.status == "open",
                                                      WelfareCheck.acknowledged_at.is_(None),
                                                      WelfareCheck.level < 2))
    for check in rows:
        since = check.escalated_at or check.raised_at
        if now - since >= ESCALATE_AFTER:
            escalate(session, check, now, reason=f"{span(now - since)}无人确认")
            report.escalated += 1


def escalate(session: Session, check: WelfareCheck, now: datetime, *, reason: str, to_level: int | None = None) -> None:
    """Send the check to the next level (or to_level) and say why in its timeline."""
    start = check.level + 1
    end = max(to_level or start, start)
    for level in range(start, min(end, 2) + 1):
        check.level, check.escalated_at = level, now
        add_entry(session, check, "escalated", SYSTEM, now, note=f"转{LEVEL_LABELS[level]}：{reason}",
                  data={"level": level})
        enqueue(session, ALERT_JOB, check.id, level, queue="high")


def check_for_staff(session: Session, check_id: int, staff: Staff) -> WelfareCheck:
    """A check the staff member may act on (their community and buildings), or 404."""
    check = session.get(WelfareCheck, check_id)
    if check is None or check.community_id != staff.community_id or not staff.covers_building(check.building):
        raise NotFound("没有找到这条关怀提醒", code="check_not_found")
    return check


def acknowledge(session: Session, check: WelfareCheck, staff: Staff, now: datetime, *, visit: bool = False) -> None:
    """A staff member takes the check (and, with visit, sets the resident's mode to visit in progress)."""
    if check.status != "open":
        raise Conflict("这条提醒已经处理完了", code="check_closed")
    if check.acknowledged_at is None:
        check.acknowledged_at, check.acknowledged_by_id = now, staff.id
        add_entry(session, check, "acknowledged", staff_actor(staff), now,
                  note="已确认，前往探访" if visit else "已确认")
    if visit:
        watching.set_mode(session, check.watch, "visit", until=None, by=staff.name, now=now)
        check.watch.due_at = None


def record_outcome(session: Session, check: WelfareCheck, staff: Staff | None, outcome: str, now: datetime, *,
                   note: str = "", photo: str | None = None) -> WelfareCheck:
    """The visit's outcome: safe or needs help closes the check (a visit is a sign of life); unreachable
    keeps it open and tells the grid worker and the family at once."""
    if outcome not in OUTCOMES or outcome == "activity":
        raise ValidationFailed("请选择探访结果", code="bad_outcome")
    if check.status != "open":
        raise Conflict("这条提醒已经处理完了", code="check_closed")
    actor = staff_actor(staff) if staff else SYSTEM
    note = (note or "").strip()[:MAX_NOTE]
    if check.acknowledged_at is None:
        check.acknowledged_at, check.acknowledged_by_id = now, staff.id if staff else None
    if photo:
        check.photo = photo
    add_entry(session, check, "outcome", actor, now, note=note, data={"outcome": outcome, "photo": photo})
    if outcome == "unreachable":
        check.outcome = outcome
        escalate(session, check, now, reason="楼栋管家联系不上", to_level=2)
        return check
    close(session, check, outcome, now, note=note, actor=actor)
    watch = check.watch
    watch.timer_from = max(watch.timer_from, now)  # someone saw the resident: the timer starts again
    if watch.mode == "visit":
        watch.mode, watch.mode_until, watch.mode_set_by = "normal", None, ""
    watching.refresh_due(session, watch, check_open=False)
    return check


def close(session: Session, check: WelfareCheck, outcome: str, now: datetime, *, note: str = "",
          actor: Actor = SYSTEM) -> None:
    """Close a check with its outcome; a check that found the resident fine counts as a false alarm."""
    check.status, check.outcome, check.closed_at = "closed", outcome, now
    if note:
        check.outcome_note = note
    if outcome in FALSE_ALARM_OUTCOMES:
        check.watch.false_alarms += 1
    add_entry(session, check, "closed", actor, now, note=OUTCOME_LABELS[outcome], to_status="closed",
              data={"outcome": outcome})


def sign_of_life(session: Session, watch: WelfareWatch, kind: str, at: datetime, now: datetime, *,
                 device_id: int | None = None) -> None:
    """A sign of life: the timer starts again; an open check nobody has taken yet closes by itself."""
    watching.record_signal(session, watch, kind, at, device_id=device_id)
    watch.updated_at = now
    check = watching.open_check(session, watch.id)
    if check is not None:
        label = watching.SIGNAL_LABELS.get(kind, kind)
        if check.acknowledged_at is None:
            close(session, check, "activity", now, note=f"检测到{label}，无需探访")
            enqueue(session, ALERT_JOB, check.id, -1, queue="high")  # -1: tell whoever was told: all clear
            check = None
        else:
            add_entry(session, check, "activity", SYSTEM, now, note=f"检测到{label}", data={"kind": kind})
    watching.refresh_due(session, watch, check_open=check is not None)
