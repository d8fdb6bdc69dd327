"""Activities: staff create them (or a club's schedule does), residents find them by words and days;
organisers change seats (the waitlist moves up) or cancel (everyone signed up is told)."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.models import ACTIVE_SIGNUP, Activity, Club, Signup
from app.activities.signups import get_activity, promote, when_label
from app.community.models import Staff
from app.core.clock import SHANGHAI, to_local, utcnow
from app.core.errors import Conflict, ValidationFailed
from app.notify.notify import notify

EDITOR_ROLES = ("admin", "property", "committee", "steward")
_SUFFIX = re.compile(r"(兴趣班|培训班|俱乐部|活动|课程|课|班|团|队|社|组|协会|小组)$")
FUZZY = 80


def new_code() -> str:
    """A 6-digit check-in code shown at the venue."""
    return f"{secrets.randbelow(10**6):06d}"


def local_to_utc(day: date, hhmm: str) -> datetime:
    """A Shanghai wall-clock time on a day as naive UTC."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    aware = datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
    return aware.astimezone(UTC).replace(tzinfo=None)


def create_activity(session: Session, community_id: int, *, title: str, starts_at: datetime, minutes: int = 90,
                    place: str = "", capacity: int = 0, description: str = "", club_id: int | None = None,
                    staff: Staff | None = None, now: datetime | None = None) -> Activity:
    """A new open activity (starts_at naive UTC, in the future)."""
    now = now or utcnow()
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise ValidationFailed("请填写活动名称（100字以内）", code="bad_title")
    if starts_at <= now:
        raise ValidationFailed("活动时间需要在现在之后", code="activity_in_past")
    if not 0 <= int(capacity) <= 10000:
        raise ValidationFailed("名额请填0（不限）到10000之间的数", code="bad_capacity")
    if not 10 <= int(minutes) <= 24 * 60:
        raise ValidationFailed("活动时长请在10分钟到24小时之间", code="bad_duration")
    activity = Activity(community_id=community_id, club_id=club_id, title=title, description=(description or "")[:2000],
                        place=(place or "").strip()[:100], starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=int(minutes)), capacity=int(capacity), taken=0,
                        status="open", checkin_code=new_code(), created_at=now,
                        created_by_staff_id=staff.id if staff is not None else None)
    session.add(activity)
    session.flush()
    return activity


def set_capacity(session: Session, activity: Activity, capacity: int, *, now: datetime | None = None) -> Activity:
    """Change the seats; more seats move the waitlist up, fewer than are taken are refused."""
    if not 0 <= int(capacity) <= 10000:
        raise ValidationFailed("名额请填0（不限）到10000之间的数", code="bad_capacity")
    if capacity and capacity < activity.taken:
        raise Conflict(f"已有{activity.taken}人占用名额，名额不能少于这个数", code="capacity_below_taken")
    activity.capacity = int(capacity)
    session.flush()
    promote(session, activity, now=now)
    return activity


def cancel_activity(session: Session, activity: Activity, reason: str = "", *, now: datetime | None = None) -> int:
    """Call an activity off; everyone signed up or waiting is told. Returns how many were told."""
    now = now or utcnow()
    if activity.status == "cancelled":
        return 0
    activity.status = "cancelled"
    rows = list(session.scalars(select(Signup).where(Signup.activity_id == activity.id,
                                                    Signup.status.in_(ACTIVE_SIGNUP))))
    why = f"（{reason.strip()[:100]}）" if reason and reason.strip() else ""
    for row in rows:
        notify(session, row.resident_id, category="activities", template="notice", now=now,
               text=f"很抱歉，“{activity.title}”（{when_label(activity)}）取消了{why}。",
               data={"activity_id": activity.id})
    session.flush()
    return len(rows)


def core_words(phrase: str) -> str:
    """书法课 -> 书法, 合唱团 -> 合唱: the part that names the activity."""
    phrase = (phrase or "").strip()
    core = _SUFFIX.sub("", phrase)
    return core or phrase


def matches(activity: Activity, phrase: str) -> bool:
    """Whether an activity (its title or club) is what a resident named."""
    core = core_words(phrase)
    names = [activity.title] + ([activity.club.name] if activity.club is not None else [])
    return any(core in name or fuzz.partial_ratio(core, name) >= FUZZY for name in names if len(core) >= 2) \
        or any(name in phrase for name in names)


def upcoming(session: Session, community_id: int, *, now: datetime | None = None, day_from: date | None = None,
             day_to: date | None = None, phrase: str | None = None, include_cancelled: bool = False,
             limit: int = 50) -> list[Activity]:
    """Activities not yet ended, soonest first; narrowed by local days (inclusive) and by what they are called."""
    now = now or utcnow()
    query = select(Activity).where(Activity.community_id == community_id, Activity.ends_at > now)
    if not include_cancelled:
        query = query.where(Activity.status == "open")
    if day_from is not None:
        query = query.where(Activity.starts_at >= local_to_utc(day_from, "00:00"))
    if day_to is not None:
        query = query.where(Activity.starts_at < local_to_utc(day_to + timedelta(days=1), "00:00"))
    rows = list(session.scalars(query.order_by(Activity.starts_at, Activity.id).limit(500)))
    if phrase:
        rows = [a for a in rows if matches(a, phrase)]
    return rows[:limit]


def local_day(activity: Activity) -> date:
    """The activity's day in Shanghai."""
    return to_local(activity.starts_at).date()


def find_clubs(session: Session, community_id: int, phrase: str) -> list[Club]:
    """Active clubs whose name is what the resident named."""
    core = core_words(phrase)
    clubs = session.scalars(select(Club).where(Club.community_id == community_id, Club.active.is_(True)))
    return [c for c in clubs if len(core) >= 2 and (core in c.name or fuzz.partial_ratio(core, c.name) >= FUZZY)]


def get(session: Session, activity_id: int, community_id: int) -> Activity:
    """An activity of the community, or NotFound."""
    return get_activity(session, activity_id, community_id)
