"""The committee's side of wishes: review, accept, reject with a reason, merge, milestones, completion.

Each step is a WishEvent and a message to every follower (through app.wishes.jobs and notify()).
Only staff of the wish's community act on it; the console checks the role (committee, admin).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.timeline import staff_actor
from app.wishes import catalogue as wish_catalogue
from app.wishes.models import OPEN_STATUSES, FacilityItem, Wish, WishFollower, WishMilestone, WishSupport
from app.wishes.wishes import (
    STATUS_LABELS,
    get_wish,
    insert_once,
    move,
    record_event,
    tell_followers,
    threshold_reached,
)

REVIEW_ROLES = ("committee", "admin")
MAX_PHOTOS = 9
PHOTO_PREFIX = "/api/v1/wish-photos/"  # residents see milestone photos through the API, staff through the console


def _wish(session: Session, wish_id: int, staff: Staff) -> Wish:
    return get_wish(session, wish_id, staff.community_id)


def _require(wish: Wish, allowed: tuple[str, ...], action: str) -> None:
    if wish.status not in allowed:
        raise Conflict(f"心愿目前{STATUS_LABELS[wish.status]}，不能{action}", code="bad_status",
                       details={"status": wish.status})


def start_review(session: Session, wish_id: int, staff: Staff, note: str = "",
                 now: datetime | None = None) -> Wish:
    """Take a wish into review before it reaches its threshold."""
    now = now or utcnow()
    wish = _wish(session, wish_id, staff)
    _require(wish, ("collecting",), "提交审议")
    wish.reviewing_at = now
    move(session, wish, "under_review", staff_actor(staff), note=note, now=now,
          tell=f"您关注的心愿「{wish.title}」已提交业委会审议。")
    return wish


def accept(session: Session, wish_id: int, staff: Staff, note: str = "", now: datetime | None = None) -> Wish:
    """The committee takes the wish on."""
    now = now or utcnow()
    wish = _wish(session, wish_id, staff)
    _require(wish, ("collecting", "under_review"), "采纳")
    wish.decided_at = now
    extra = f"说明：{note.strip()}" if note and note.strip() else "后续进展会及时告诉您。"
    move(session, wish, "accepted", staff_actor(staff), note=note, now=now,
          tell=f"好消息！您支持的心愿「{wish.title}」已被业委会采纳。{extra}")
    return wish


def reject(session: Session, wish_id: int, staff: Staff, reason: str, now: datetime | None = None) -> Wish:
    """The committee declines the wish, saying why."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写不采纳的原因，住户会看到", code="reason_required")
    wish = _wish(session, wish_id, staff)
    _require(wish, ("collecting", "under_review"), "不采纳")
    wish.reason, wish.decided_at = reason[:500], now
    move(session, wish, "rejected", staff_actor(staff), note=reason, now=now,
          tell=f"您支持的心愿「{wish.title}」经业委会审议暂不采纳。原因：{reason[:200]}")
    return wish


def merge(session: Session, wish_id: int, staff: Staff, into_id: int, reason: str = "",
          now: datetime | None = None) -> Wish:
    """Fold a duplicate into another open wish: its supporters and followers move over, counted once."""
    now = now or utcnow()
    wish = _wish(session, wish_id, staff)
    target = _wish(session, into_id, staff)
    if target.id == wish.id:
        raise ValidationFailed("不能合并到自己", code="merge_into_self")
    _require(wish, ("collecting", "under_review"), "合并")
    if not target.is_open:
        raise Conflict(f"目标心愿{STATUS_LABELS[target.status]}，不能再合并进去", code="bad_target")
    session.execute(select(Wish.id).where(Wish.id == target.id).with_for_update()).all()
    for support in session.scalars(select(WishSupport).where(WishSupport.wish_id == wish.id)):
        insert_once(session, WishSupport(wish_id=target.id, resident_id=support.resident_id,
                                          building=support.building, created_at=support.created_at))
    for resident_id in session.scalars(select(WishFollower.resident_id).where(WishFollower.wish_id == wish.id)):
        insert_once(session, WishFollower(wish_id=target.id, resident_id=resident_id, created_at=now))
    count = session.scalar(select(func.count()).select_from(WishSupport).where(WishSupport.wish_id == target.id))
    session.execute(update(Wish).where(Wish.id == target.id).values(supports_count=count))
    session.refresh(target, ["supports_count"])
    wish.merged_into_id, wish.reason, wish.decided_at = target.id, (reason or "").strip()[:500], now
    note = f"合并到心愿#{target.id}「{target.title}」 {reason}".strip()
    tell = (f"您支持的心愿「{wish.title}」与「{target.title}」内容相同，已合并，您的支持已计入"
            f"「{target.title}」（现有{count}人支持），之后的进展会继续通知您。")
    move(session, wish, "merged", staff_actor(staff), note=note, now=now, tell=tell)
    record_event(session, target, "merged_in", staff_actor(staff), note=f"心愿#{wish.id}「{wish.title}」合并进来",
                 now=now)
    session.flush()
    if target.supports_count >= target.threshold:
        threshold_reached(session, target, now)
    return wish


def milestone(session: Session, wish_id: int, staff: Staff, *, percentage: int, note: str,
              photos: list[str] | None = None, now: datetime | None = None) -> WishMilestone:
    """Post progress on an accepted wish (0–100 %, a note, photos); the first one starts the work."""
    now = now or utcnow()
    note = (note or "").strip()
    if not isinstance(percentage, int) or isinstance(percentage, bool) or not 0 <= percentage <= 100:
        raise ValidationFailed("进度请填 0 到 100 之间的整数", code="bad_percentage")
    if not note:
        raise ValidationFailed("请写一句进展说明，住户会看到", code="note_required")
    wish = _wish(session, wish_id, staff)
    _require(wish, ("accepted", "in_progress"), "更新进展")
    row = WishMilestone(wish_id=wish.id, percentage=percentage, note=note[:1000],
                        photos=[p for p in (photos or []) if p][:MAX_PHOTOS], staff_id=staff.id,
                        staff_name=staff.name[:50], created_at=now)
    session.add(row)
    wish.milestones.append(row)
    wish.progress = percentage
    text = f"您支持的心愿「{wish.title}」有新进展（完成{percentage}%）：{note[:200]}"
    if wish.status == "accepted":
        move(session, wish, "in_progress", staff_actor(staff), note=note, now=now)
    wish.updated_at = now
    record_event(session, wish, "milestone", staff_actor(staff), note=f"{percentage}% {note}", now=now)
    session.flush()
    tell_followers(session, wish, text)
    return row


def complete(session: Session, wish_id: int, staff: Staff, note: str = "", now: datetime | None = None) -> Wish:
    """The facility is built: the wish is completed and its catalogue item opens for rating."""
    now = now or utcnow()
    wish = _wish(session, wish_id, staff)
    _require(wish, ("accepted", "in_progress"), "标记建成")
    item = session.get(FacilityItem, wish.item_id) if wish.item_id else None
    if item is None:  # a free-text wish becomes a menu item so neighbours can rate it
        item = session.scalar(select(FacilityItem).where(FacilityItem.community_id == wish.community_id,
                                                         FacilityItem.name == wish.title[:50]))
        item = item or wish_catalogue.save_item(session, wish.community_id, name=wish.title[:50],
                                                description=wish.description)
        wish.item_id = item.id
    item.built = True
    wish.progress, wish.completed_at = 100, now
    move(session, wish, "completed", staff_actor(staff), note=note, now=now,
          tell=f"您支持的心愿「{wish.title}」已经建成啦！{(note or '').strip()[:150]}"
               "欢迎去体验，并在小程序里给它打分评价。")
    return wish


def review_queue(session: Session, staff: Staff, *, status: str = "under_review", limit: int = 100) -> list[Wish]:
    """Wishes for the committee: one status, 'open', or 'all'; the most supported first."""
    query = select(Wish).where(Wish.community_id == staff.community_id)
    if status == "open":
        query = query.where(Wish.status.in_(OPEN_STATUSES))
    elif status != "all":
        query = query.where(Wish.status == status)
    return list(session.scalars(query.order_by(Wish.supports_count.desc(), Wish.id.desc()).limit(limit)))


def milestone_with_photo(session: Session, url: str) -> WishMilestone | None:
    """The milestone a photo URL belongs to (among the latest 500), or None."""
    rows = session.scalars(select(WishMilestone).order_by(WishMilestone.id.desc()).limit(500))
    return next((m for m in rows if url in (m.photos or [])), None)
