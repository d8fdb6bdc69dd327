"""Interest clubs: create, join and leave, members' roles, notices to members through notify, and the
recurring sessions (weekly or fortnightly) that become activities."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.activities.activities import create_activity, local_to_utc
from app.activities.models import MEMBER_ROLES, Activity, Club, ClubMember
from app.community.models import Resident, Staff
from app.core.clock import local_now, utcnow
from app.core.db import insert_once
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.notify.notify import notify

HORIZON_DAYS = 14  # sessions are generated this far ahead


def get_club(session: Session, club_id: int, community_id: int) -> Club:
    """A club of the community, or NotFound."""
    club = session.get(Club, club_id)
    if club is None or club.community_id != community_id:
        raise NotFound("没有找到这个社团", code="club_not_found")
    return club


def create_club(session: Session, community_id: int, *, name: str, description: str = "",
                organiser: Resident | Staff | None = None, every_weeks: int = 0, weekday: int = 0,
                session_time: str = "09:00", session_minutes: int = 90, place: str = "", capacity: int = 0,
                first_day: date | None = None) -> Club:
    """A new club; a resident organiser becomes its first member with the organiser role."""
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise ValidationFailed("请填写社团名称（50字以内）", code="bad_name")
    if every_weeks not in (0, 1, 2):
        raise ValidationFailed("活动周期只能是每周或每两周", code="bad_recurrence")
    if not 0 <= weekday <= 6 or len(session_time) != 5 or session_time[2] != ":":
        raise ValidationFailed("请填写星期和时间（如 09:00）", code="bad_session_time")
    if session.scalar(select(Club.id).where(Club.community_id == community_id, Club.name == name)):
        raise Conflict("已有同名社团", code="club_duplicate")
    club = Club(community_id=community_id, name=name, description=(description or "")[:2000],
                every_weeks=every_weeks, weekday=weekday, session_time=session_time, session_minutes=session_minutes,
                place=place, capacity=capacity, first_day=first_day or local_now().date(), active=True)
    if isinstance(organiser, Resident):
        club.organiser_resident_id = organiser.id
    elif isinstance(organiser, Staff):
        club.organiser_staff_id = organiser.id
    session.add(club)
    session.flush()
    if isinstance(organiser, Resident):
        join(session, club, organiser, role="organiser")
    return club


def membership(session: Session, club_id: int, resident_id: int) -> ClubMember | None:
    """The resident's membership row (also when they left)."""
    return session.scalar(select(ClubMember).where(ClubMember.club_id == club_id,
                                                   ClubMember.resident_id == resident_id))


def join(session: Session, club: Club, resident: Resident, *, role: str = "member",
         now: datetime | None = None) -> ClubMember:
    """Join a club (again after leaving); joining twice changes nothing."""
    now = now or utcnow()
    if role not in MEMBER_ROLES:
        raise ValidationFailed("没有这种社团角色", code="bad_role")
    if club.community_id != resident.community_id or not club.active:
        raise NotFound("没有找到这个社团", code="club_not_found")
    row = membership(session, club.id, resident.id)
    if row is None:
        row = ClubMember(club_id=club.id, resident_id=resident.id, role=role, joined_at=now)
        if not insert_once(session, row):  # the same request twice at once
            row = membership(session, club.id, resident.id)
    elif row.left_at is not None:
        row.left_at, row.joined_at, row.role = None, now, role
    session.flush()
    return row


def leave(session: Session, club: Club, resident: Resident, *, now: datetime | None = None) -> ClubMember:
    """Leave a club (the row stays, with left_at)."""
    row = membership(session, club.id, resident.id)
    if row is None or row.left_at is not None:
        raise Conflict("您不是这个社团的成员", code="not_a_member")
    row.left_at = now or utcnow()
    session.flush()
    return row


def set_role(session: Session, club: Club, resident_id: int, role: str) -> ClubMember:
    """Change a member's role (organiser, assistant, member)."""
    if role not in MEMBER_ROLES:
        raise ValidationFailed("没有这种社团角色", code="bad_role")
    row = membership(session, club.id, resident_id)
    if row is None or row.left_at is not None:
        raise NotFound("没有这位成员", code="member_not_found")
    row.role = role
    session.flush()
    return row


def members(session: Session, club: Club) -> list[ClubMember]:
    """Current members: organisers first, then by joining time."""
    rows = session.scalars(select(ClubMember).where(ClubMember.club_id == club.id, ClubMember.left_at.is_(None)))
    return sorted(rows, key=lambda m: (MEMBER_ROLES.index(m.role), m.joined_at, m.id))


def notice(session: Session, club: Club, text: str, *, now: datetime | None = None) -> int:
    """A notice to every current member through notify (category activities); returns how many."""
    text = (text or "").strip()
    if not text or len(text) > 500:
        raise ValidationFailed("通知内容不能为空，最多500字", code="bad_notice")
    rows = members(session, club)
    for row in rows:
        notify(session, row.resident_id, category="activities", template="notice", now=now,
               text=f"【{club.name}】{text}", data={"club_id": club.id})
    return len(rows)


def session_days(club: Club, start: date, days: int) -> list[date]:
    """The days of the club's sessions from start for `days` days (fortnightly counts from first_day)."""
    if club.every_weeks not in (1, 2):
        return []
    anchor = club.first_day or start
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        if day.weekday() != club.weekday:
            continue
        if club.every_weeks == 2 and ((day - anchor).days // 7) % 2:
            continue
        out.append(day)
    return out


def generate_sessions(session: Session, club: Club, *, days: int = HORIZON_DAYS, now: datetime | None = None) -> int:
    """Create the club's sessions of the coming days that are missing (and not yet started); returns how many."""
    now = now or utcnow()
    if not club.active:
        return 0
    made = 0
    for day in session_days(club, local_now().date(), days):
        starts_at = local_to_utc(day, club.session_time)
        if starts_at <= now or session.scalar(select(Activity.id).where(Activity.club_id == club.id,
                                                                         Activity.starts_at == starts_at)):
            continue
        create_activity(session, club.community_id, title=club.name, starts_at=starts_at,
                        minutes=club.session_minutes, place=club.place, capacity=club.capacity,
                        description=club.description, club_id=club.id, now=now)
        made += 1
    return made


def generate_all(session: Session, *, now: datetime | None = None) -> int:
    """Every active club's missing sessions."""
    clubs = list(session.scalars(select(Club).where(Club.active.is_(True), Club.every_weeks > 0)))
    return sum(generate_sessions(session, club, now=now) for club in clubs)


def clubs_of(session: Session, community_id: int) -> list[Club]:
    """The community's active clubs, by name."""
    return list(session.scalars(select(Club).where(Club.community_id == community_id, Club.active.is_(True))
                                .order_by(Club.id)))
