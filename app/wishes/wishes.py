"""Wishes (心愿): making one, supports with a threshold, followers, the lifecycle, comments, rankings.

Lifecycle: collecting → under_review (threshold reached; the committee is alerted) → accepted |
rejected (reason) | merged (into another) → in_progress (milestones with a percentage) → completed
(the facility is built and open for rating); the author may withdraw it while collecting or under review
(app/services/wish_withdraw.py). Every status change and milestone is written as a
WishEvent and told to every follower by a job (app.wishes.jobs) through notify(). Authors and
supporters follow automatically. Services flush, never commit.
"""

from __future__ import annotations

import math
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.community.models import Building, Household, Resident, Staff, Unit
from app.core import timeline as shared_timeline
from app.core.clock import utcnow
from app.core.db import insert_once
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.outbox import enqueue
from app.core.timeline import SYSTEM, Actor, resident_actor
from app.wishes import catalogue as wish_catalogue
from app.wishes.models import (
    OPEN_STATUSES,
    THRESHOLD_MODES,
    FacilityItem,
    Wish,
    WishComment,
    WishEvent,
    WishFollower,
    WishSupport,
    WishThreshold,
)

STATUS_LABELS = {"collecting": "征集支持中", "under_review": "业委会审议中", "accepted": "已采纳", "rejected": "未采纳",
                 "merged": "已合并", "in_progress": "建设中", "completed": "已建成", "withdrawn": "已撤回"}
DEFAULT_THRESHOLD = 20
SIMILAR_SCORE = 80  # rapidfuzz partial_ratio between titles for "a neighbour already wished for this"
SUPPORTABLE = OPEN_STATUSES
TELL_JOB = "app.wishes.jobs.tell_followers"
ALERT_JOB = "app.wishes.jobs.alert_committee"
MAX_TEXT = 1000


# ---- thresholds --------------------------------------------------------------------------------

def households(session: Session, community_id: int, building: str | None = None) -> int:
    """How many households the community (or one building) has."""
    query = (select(func.count()).select_from(Household).join(Unit, Household.unit_id == Unit.id)
             .join(Building, Unit.building_id == Building.id).where(Building.community_id == community_id))
    if building:
        query = query.where(Building.number == building)
    return int(session.scalar(query) or 0)


def threshold_for(session: Session, community_id: int, building: str | None = None) -> int:
    """Supports needed: the building's rule, else the community's, else 20; a share is of the households."""
    rules = {r.building: r for r in session.scalars(select(WishThreshold).where(
        WishThreshold.community_id == community_id))}
    rule = rules.get(building) if building else None
    rule = rule or rules.get(None)
    if rule is None:
        return DEFAULT_THRESHOLD
    if rule.mode == "share":
        return max(1, math.ceil(rule.value * households(session, community_id, building if rule.building else None)))
    return max(1, int(rule.value))


def set_threshold(session: Session, community_id: int, *, mode: str, value: float,
                  building: str | None = None) -> WishThreshold:
    """Configure the threshold for the community (building=None) or one building; applies to new wishes."""
    if mode not in THRESHOLD_MODES:
        raise ValidationFailed("门槛只能是固定人数或住户比例", code="bad_mode")
    if mode == "absolute" and not (1 <= value <= 100000 and float(value).is_integer()):
        raise ValidationFailed("人数门槛请填 1 以上的整数", code="bad_value")
    if mode == "share" and not 0 < value <= 1:
        raise ValidationFailed("比例门槛请填 0 到 1 之间的小数，例如 0.05", code="bad_value")
    building = (building or "").strip() or None
    rule = session.scalar(select(WishThreshold).where(WishThreshold.community_id == community_id,
                                                      WishThreshold.building.is_(None) if building is None
                                                      else WishThreshold.building == building))
    if rule is None:
        rule = WishThreshold(community_id=community_id, building=building)
        session.add(rule)
    rule.mode, rule.value = mode, float(value)
    session.flush()
    return rule


# ---- events and telling followers --------------------------------------------------------------

def record_event(session: Session, wish: Wish, kind: str, actor: Actor, *, note: str = "",
                 from_status: str | None = None, to_status: str | None = None,
                 now: datetime | None = None) -> WishEvent:
    """Add a line to the wish's history."""
    event = shared_timeline.record(session, WishEvent(wish_id=wish.id), kind, actor, note=note, from_status=from_status,
                            to_status=to_status, now=now, max_note=MAX_TEXT)
    wish.events.append(event)
    return event


def tell_followers(session: Session, wish: Wish, text: str) -> None:
    """Enqueue the job that tells every follower (after commit); the digest in notify handles many a day."""
    enqueue(session, TELL_JOB, wish.id, text)


def move(session: Session, wish: Wish, to: str, actor: Actor, *, note: str = "", tell: str | None = None,
         now: datetime) -> WishEvent:
    """Change the wish's status with a history line, and tell its followers when `tell` is given."""
    before = shared_timeline.move(wish, to, now)
    event = record_event(session, wish, to, actor, note=note, from_status=before, to_status=to, now=now)
    session.flush()
    if tell:
        tell_followers(session, wish, tell)
    return event


def followers(session: Session, wish_id: int) -> list[int]:
    """The resident ids told of this wish's steps."""
    return list(session.scalars(select(WishFollower.resident_id).where(WishFollower.wish_id == wish_id)
                                .order_by(WishFollower.id)))


def is_following(session: Session, wish_id: int, resident_id: int) -> bool:
    """Whether this resident is told of the wish's steps."""
    return session.scalar(select(WishFollower.id).where(WishFollower.wish_id == wish_id,
                                                        WishFollower.resident_id == resident_id)) is not None


def follow(session: Session, wish: Wish, resident: Resident, now: datetime | None = None) -> bool:
    """Follow a wish's steps; False when already following."""
    if is_following(session, wish.id, resident.id):
        return False
    return insert_once(session, WishFollower(wish_id=wish.id, resident_id=resident.id, created_at=now or utcnow()))


def unfollow(session: Session, wish: Wish, resident: Resident) -> bool:
    """Stop following; False when not following."""
    result = session.execute(delete(WishFollower).where(WishFollower.wish_id == wish.id,
                                                        WishFollower.resident_id == resident.id))
    return bool(result.rowcount)


# ---- making a wish -----------------------------------------------------------------------------

def similar_wishes(session: Session, community_id: int, *, title: str, item_id: int | None = None,
                   limit: int = 3) -> list[Wish]:
    """Open wishes in the community for the same catalogue item or with a title close to this one."""
    title = (title or "").strip()
    rows = session.scalars(select(Wish).where(Wish.community_id == community_id, Wish.status.in_(OPEN_STATUSES))
                           .order_by(Wish.supports_count.desc(), Wish.id))
    found = []
    for wish in rows:
        same_item = item_id is not None and wish.item_id == item_id
        close = bool(title) and fuzz.partial_ratio(title, wish.title) >= SIMILAR_SCORE \
            and min(len(title), len(wish.title)) >= 2
        if same_item or close:
            found.append(wish)
        if len(found) >= limit:
            break
    return found


def create_wish(session: Session, resident: Resident, *, title: str = "", item_id: int | None = None,
                description: str = "", building: str | None = None, source: str = "oa",
                now: datetime | None = None) -> Wish:
    """Make a wish (a catalogue item or free text); the author supports and follows it."""
    now = now or utcnow()
    item = wish_catalogue.get_item(session, item_id, resident.community_id) if item_id is not None else None
    title = (title or "").strip()[:100] or (item.name if item else "")
    if not title:
        raise ValidationFailed("请说说您希望小区增加什么", code="missing_title")
    building = (str(building).strip() or None) if building not in (None, "") else None
    wish = Wish(community_id=resident.community_id, item_id=item.id if item else None, title=title,
                description=(description or "").strip()[:MAX_TEXT], building=building, resident_id=resident.id,
                status="collecting", threshold=threshold_for(session, resident.community_id, building),
                supports_count=0, source=source, created_at=now, updated_at=now)
    session.add(wish)
    session.flush()
    record_event(session, wish, "created", resident_actor(resident), to_status="collecting",
                 note=wish.description, now=now)
    support(session, wish, resident, now=now)
    return wish


# ---- supports ----------------------------------------------------------------------------------

def _building_of(resident: Resident) -> str | None:
    household = resident.household
    return household.unit.building.number if household is not None else None


def supported(session: Session, wish_id: int, resident_id: int) -> bool:
    """Whether this resident supports the wish."""
    return session.scalar(select(WishSupport.id).where(WishSupport.wish_id == wish_id,
                                                       WishSupport.resident_id == resident_id)) is not None


def supported_among(session: Session, resident_id: int, wish_ids: list[int]) -> set[int]:
    """Which of these wishes the resident supports (one query for a list)."""
    if not wish_ids:
        return set()
    return set(session.scalars(select(WishSupport.wish_id).where(WishSupport.resident_id == resident_id,
                                                                 WishSupport.wish_id.in_(wish_ids))))


def support(session: Session, wish: Wish, resident: Resident, now: datetime | None = None) -> bool:
    """Support a wish once (a repeated or racing request counts nothing); reaching the threshold starts review."""
    now = now or utcnow()
    if wish.community_id != resident.community_id:
        raise NotFound("没有找到这个心愿", code="wish_not_found")
    if wish.status not in SUPPORTABLE:
        raise Conflict(f"这个心愿{STATUS_LABELS[wish.status]}，不能再支持了", code="not_supportable")
    row = WishSupport(wish_id=wish.id, resident_id=resident.id, building=_building_of(resident), created_at=now)
    if not insert_once(session, row):
        return False
    count = session.execute(update(Wish).where(Wish.id == wish.id)
                            .values(supports_count=Wish.supports_count + 1)
                            .returning(Wish.supports_count)).scalar_one()
    set_committed_value(wish, "supports_count", count)
    follow(session, wish, resident, now)
    if count >= wish.threshold:
        threshold_reached(session, wish, now)
    return True


def threshold_reached(session: Session, wish: Wish, now: datetime) -> bool:
    """collecting → under_review exactly once, however many supports race to the threshold."""
    moved = session.execute(update(Wish).where(Wish.id == wish.id, Wish.status == "collecting")
                            .values(status="under_review", reviewing_at=now, updated_at=now)).rowcount
    if not moved:
        return False
    set_committed_value(wish, "status", "under_review")
    set_committed_value(wish, "reviewing_at", now)
    record_event(session, wish, "under_review", SYSTEM, from_status="collecting", to_status="under_review",
           note=f"支持人数达到{wish.threshold}人", now=now)
    session.flush()
    tell_followers(session, wish, f"您支持的心愿「{wish.title}」已有{wish.supports_count}位邻居支持，"
                                  "达到门槛，已提交业委会审议。")
    enqueue(session, ALERT_JOB, wish.id)
    return True


def withdraw(session: Session, wish: Wish, resident: Resident) -> bool:
    """Take back a support while the wish is still collecting and below its threshold."""
    if wish.status != "collecting" or wish.supports_count >= wish.threshold:
        raise Conflict("心愿已达到支持门槛、进入审议，支持不能撤回", code="threshold_reached")
    with session.begin_nested():
        gone = session.execute(delete(WishSupport).where(WishSupport.wish_id == wish.id,
                                                         WishSupport.resident_id == resident.id)).rowcount
        if not gone:
            return False
        count = session.execute(update(Wish).where(Wish.id == wish.id, Wish.status == "collecting",
                                                   Wish.supports_count < Wish.threshold)
                                .values(supports_count=Wish.supports_count - 1)
                                .returning(Wish.supports_count)).scalar_one_or_none()
        if count is None:  # the threshold was reached meanwhile
            raise Conflict("心愿已达到支持门槛、进入审议，支持不能撤回", code="threshold_reached")
    set_committed_value(wish, "supports_count", count)
    if wish.resident_id != resident.id:
        unfollow(session, wish, resident)
    session.flush()
    return True


# ---- finding wishes ----------------------------------------------------------------------------

def get_wish(session: Session, wish_id: int, community_id: int) -> Wish:
    """A wish of the community; another community's is not found."""
    wish = session.get(Wish, wish_id)
    if wish is None or wish.community_id != community_id:
        raise NotFound("没有找到这个心愿", code="wish_not_found")
    return wish


def list_wishes(session: Session, community_id: int, *, status: str | None = None, building: str | None = None,
                sort: str = "new", limit: int = 50) -> list[Wish]:
    """The community's wishes: status 'open' or one status (None = all), newest or most supported first."""
    query = select(Wish).where(Wish.community_id == community_id)
    if status == "open":
        query = query.where(Wish.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(Wish.status == status)
    if building:
        query = query.where(or_(Wish.building == building, Wish.building.is_(None)))
    order = (Wish.supports_count.desc(), Wish.id.desc()) if sort == "top" else (Wish.id.desc(),)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def rankings(session: Session, community_id: int, *, building: str | None = None,
             limit: int = 10) -> list[tuple[Wish, int]]:
    """Most-supported open wishes ("what the neighbours want"), counting a building's residents when given."""
    if building is None:
        rows = session.scalars(select(Wish).where(Wish.community_id == community_id,
                                                  Wish.status.in_(OPEN_STATUSES))
                               .order_by(Wish.supports_count.desc(), Wish.id).limit(limit))
        return [(w, w.supports_count) for w in rows]
    count = func.count(WishSupport.id)
    rows = session.execute(select(Wish, count).join(WishSupport, WishSupport.wish_id == Wish.id)
                           .where(Wish.community_id == community_id, Wish.status.in_(OPEN_STATUSES),
                                  WishSupport.building == building)
                           .group_by(Wish.id).order_by(count.desc(), Wish.id).limit(limit))
    return [(w, int(n)) for w, n in rows]


def wishes_for_resident(session: Session, resident: Resident, *, open_only: bool = False,
                        limit: int = 20) -> list[Wish]:
    """Wishes the resident made, supports or follows, newest first."""
    followed = select(WishFollower.wish_id).where(WishFollower.resident_id == resident.id)
    supported_ids = select(WishSupport.wish_id).where(WishSupport.resident_id == resident.id)
    query = select(Wish).where(or_(Wish.resident_id == resident.id, Wish.id.in_(followed),
                                   Wish.id.in_(supported_ids)))
    if open_only:
        query = query.where(Wish.status.in_(OPEN_STATUSES))
    return list(session.scalars(query.order_by(Wish.updated_at.desc(), Wish.id.desc()).limit(limit)))


# ---- comments ----------------------------------------------------------------------------------

def comment(session: Session, wish: Wish, text: str, *, resident: Resident | None = None,
            staff: Staff | None = None, now: datetime | None = None) -> WishComment:
    """A resident's or the committee's words on a wish, shown to everyone in the community."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("请写下您的看法", code="empty_comment")
    if wish.status == "merged":
        raise Conflict("这个心愿已合并，请到合并后的心愿下留言", code="wish_merged")
    name = (resident.name[:1] + "邻居") if resident is not None else f"{staff.name}（业委会）"
    row = WishComment(wish_id=wish.id, resident_id=resident.id if resident else None,
                      staff_id=staff.id if staff and not resident else None, author_name=name[:50],
                      text=text[:MAX_TEXT], created_at=now or utcnow())
    session.add(row)
    wish.comments.append(row)
    session.flush()
    return row


def timeline(wish: Wish) -> list[dict]:
    """The wish's events as plain dicts, oldest first."""
    return [{"kind": e.kind, "from": e.from_status, "to": e.to_status, "actor": e.actor_kind,
             "actor_name": e.actor_name, "note": e.note, "at": e.created_at.isoformat() + "Z"} for e in wish.events]


def item_for(session: Session, wish: Wish) -> FacilityItem | None:
    """The catalogue item of a wish, if it was mapped to one."""
    return session.get(FacilityItem, wish.item_id) if wish.item_id else None
