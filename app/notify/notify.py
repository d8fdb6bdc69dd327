"""The one notification service: every feature's message to a resident goes through notify().

notify() records a Notification and enqueues its delivery (app.notify.jobs). Preferences
apply here (muted categories are recorded as muted and never sent; safety and service cannot
be muted) and quiet hours (22:00–07:00 Asia/Shanghai: non-urgent broadcasts wait until 07:00).
Quiet hours hold back only what the resident did not ask for (activities, health, property
notices): an answer to their own request (`service`: a ticket update, a staff reply, a booking)
goes at once, since they may be waiting for it in the chat at 22:30.
The daily digest is decided when a message is delivered (see `digest_due`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.community.models import Resident
from app.core.clock import SHANGHAI, to_local, utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.outbox import enqueue
from app.notify.channels import MessageTemplate
from app.notify.models import CATEGORIES, MUTABLE_CATEGORIES, Notification, NotificationPreference

QUIET_START, QUIET_END = time(22, 0), time(7, 0)
DIGEST_AFTER = 5  # default: from the 6th non-urgent broadcast message of a day on, a digest
DIGEST_AT = time(20, 0)  # local time the day's digest goes out
DIGEST_DELAY = timedelta(minutes=10)  # never sooner than this after the message that started it
DELIVER_JOB = "app.notify.jobs.deliver_notification"
DIGEST_JOB = "app.notify.jobs.send_digest"
CATEGORY_LABELS = {"activities": "活动", "health": "健康", "property": "物业通知", "safety": "安全提醒",
                   "service": "办事进度"}

# key -> (title shown in the card, mini-program subscribe template id, official-account template id);
# the ids are placeholders overridden per deployment by config NOTIFY_TEMPLATE_IDS.
DEFAULT_TEMPLATES: dict[str, tuple[str, str, str]] = {
    "notice": ("社区通知", "wxa-tmpl-notice", "oa-tmpl-notice"),
    "ticket": ("报修进度", "wxa-tmpl-ticket", "oa-tmpl-ticket"),
    "booking": ("预约提醒", "wxa-tmpl-booking", "oa-tmpl-booking"),
    "wish": ("心愿进展", "wxa-tmpl-wish", "oa-tmpl-wish"),
    "reply": ("工作人员回复", "wxa-tmpl-reply", "oa-tmpl-reply"),
    "digest": ("今日通知汇总", "wxa-tmpl-notice", "oa-tmpl-notice"),
}


def message_template(key: str | None, overrides: Mapping[str, Mapping[str, str]] | None = None) -> MessageTemplate:
    """The template for a key (unknown keys fall back to `notice`), with deployment ids applied."""
    key = key if key in DEFAULT_TEMPLATES else "notice"
    title, wxa, oa = DEFAULT_TEMPLATES[key]
    ids = (overrides or {}).get(key, {})
    return MessageTemplate(key, ids.get("title", title), ids.get("wxa", wxa), ids.get("oa", oa))


def preferences(session: Session, resident_id: int) -> NotificationPreference:
    """The resident's preferences (defaults when they never set any; not added to the session)."""
    pref = session.get(NotificationPreference, resident_id)
    return pref or NotificationPreference(resident_id=resident_id, muted=[], quiet_hours=True)


def set_preferences(session: Session, resident_id: int, *, muted: list[str] | None = None,
                    quiet_hours: bool | None = None) -> NotificationPreference:
    """Change which categories are muted and whether quiet hours apply; safety cannot be muted."""
    pref = session.get(NotificationPreference, resident_id)
    if pref is None:
        pref = NotificationPreference(resident_id=resident_id, muted=[], quiet_hours=True)
        session.add(pref)
    if muted is not None:
        bad = [c for c in muted if c not in MUTABLE_CATEGORIES]
        if bad:
            raise ValidationFailed("安全提醒和办事进度通知不能关闭" if set(bad) <= set(CATEGORIES)
                                   else f"没有这种通知类别：{bad[0]}", code="category_not_mutable",
                                   details={"categories": bad})
        pref.muted = sorted(set(muted))
    if quiet_hours is not None:
        pref.quiet_hours = bool(quiet_hours)
    session.flush()
    return pref


def _naive_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def in_quiet_hours(at: datetime) -> bool:
    """Whether an aware local time falls in 22:00–07:00."""
    t = at.astimezone(SHANGHAI).time()
    return t >= QUIET_START or t < QUIET_END


def quiet_hours_end(at: datetime) -> datetime:
    """The next 07:00 Asia/Shanghai after an aware time that is in quiet hours, as naive UTC."""
    local = at.astimezone(SHANGHAI)
    day = local.date() + (timedelta(days=1) if local.time() >= QUIET_START else timedelta())
    end = datetime.combine(day, QUIET_END, tzinfo=SHANGHAI)
    return _naive_utc(end)


def defer_for_quiet_hours(now_utc: datetime, *, urgent: bool, quiet_hours: bool = True) -> datetime | None:
    """When a message composed at now_utc (naive UTC) may go: None = now, else 07:00 (naive UTC)."""
    local = to_local(now_utc)
    if urgent or not quiet_hours or not in_quiet_hours(local):
        return None
    return quiet_hours_end(local)


def notify(
    session: Session,
    resident_id: int,
    *,
    category: str,
    text: str,
    urgent: bool = False,
    template: str | None = None,
    data: dict[str, Any] | None = None,
    link: str | None = None,
    now: datetime | None = None,
) -> Notification:
    """Record a message for a resident and enqueue its delivery (after commit)."""
    if category not in CATEGORIES:
        raise ValidationFailed(f"没有这种通知类别：{category}", code="unknown_category")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("通知内容不能为空", code="empty_notification")
    if session.get(Resident, resident_id) is None:
        raise NotFound("没有找到这位住户", code="resident_not_found")
    now = now or utcnow()
    pref = preferences(session, resident_id)
    deliver_at = defer_for_quiet_hours(now, urgent=urgent or category not in MUTABLE_CATEGORIES,
                                       quiet_hours=pref.quiet_hours)
    note = Notification(
        resident_id=resident_id, category=category, text=text[:2000], urgent=urgent,
        template=template, data={k: str(v) for k, v in (data or {}).items()}, link=link,
        local_day=to_local(deliver_at or now).date(), deliver_at=deliver_at, status="queued", attempts=0,
    )
    session.add(note)
    if category in MUTABLE_CATEGORIES and category in (pref.muted or []):
        note.status, note.reason = "muted", f"住户关闭了{CATEGORY_LABELS[category]}通知"
        session.flush()
        return note
    if deliver_at is not None:
        note.reason = "quiet_hours"
    session.flush()
    enqueue(session, DELIVER_JOB, note.id, queue="high" if urgent else "default", run_at=deliver_at)
    return note


def digestible(note: Notification) -> bool:
    """Only non-urgent broadcast-like messages are gathered into a digest."""
    return not note.urgent and note.category in MUTABLE_CATEGORIES


def digest_due(session: Session, note: Notification, threshold: int = DIGEST_AFTER) -> bool:
    """Whether this message belongs in the day's digest: `threshold` others already went out today."""
    if not digestible(note):
        return False
    earlier = session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.resident_id == note.resident_id, Notification.local_day == note.local_day,
            Notification.id != note.id, Notification.urgent.is_(False),
            Notification.category.in_(MUTABLE_CATEGORIES), Notification.status.in_(("sent", "sending", "digest")),
        )
    ) or 0
    return earlier >= threshold


def digest_time(day: date, now_utc: datetime) -> datetime:
    """When the digest of a local day goes (naive UTC): 20:00 that day, not sooner than a short delay."""
    at = datetime.combine(day, DIGEST_AT, tzinfo=SHANGHAI)
    soonest = to_local(now_utc + DIGEST_DELAY)
    at = max(at, soonest)
    if in_quiet_hours(at):
        return quiet_hours_end(at)
    return _naive_utc(at)


def hold_for_digest(session: Session, note: Notification, now: datetime | None = None) -> None:
    """Put a message in the day's digest, enqueueing the digest job if this is its first message."""
    others = session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.resident_id == note.resident_id, Notification.local_day == note.local_day,
            Notification.status == "digest", Notification.id != note.id,
        )
    ) or 0
    note.status, note.reason = "digest", "daily_digest"
    session.flush()
    if not others:
        enqueue(session, DIGEST_JOB, note.resident_id, note.local_day.isoformat(),
                run_at=digest_time(note.local_day, now or utcnow()))


def digest_text(notes: list[Notification]) -> str:
    """One message summing up the day's held messages."""
    lines = [f"您今天还有 {len(notes)} 条社区通知："]
    lines += [f"{i}. 【{CATEGORY_LABELS.get(n.category, n.category)}】{n.text[:60]}" for i, n in enumerate(notes, 1)]
    return "\n".join(lines)
