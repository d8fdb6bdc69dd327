"""Demo data for wishes: the community's starting menu, a threshold, wishes across the lifecycle, ratings.

Written straight as rows (not through the lifecycle service) so seeding sends no WeChat messages
and enqueues no jobs; the events are the ones the service would have written.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.community.models import Community, Resident, Staff
from app.core.clock import utcnow
from app.wishes.catalogue import ensure_catalogue
from app.wishes.models import (
    FacilityItem,
    FacilityRating,
    Wish,
    WishEvent,
    WishFollower,
    WishMilestone,
    WishSupport,
    WishThreshold,
)

THRESHOLD = 10
# (catalogue item or None = free text, title, status, supports, days ago, progress, reason)
DEMO_WISHES = (
    ("自助打印机", "自助打印机", "collecting", 6, 3, 0, ""),
    ("电动车充电桩", "电动车充电桩", "under_review", 11, 12, 0, ""),
    ("长椅", "北门花园多放几张长椅", "in_progress", 14, 40, 60, ""),
    ("快递柜", "快递柜", "completed", 18, 90, 100, ""),
    (None, "小区里建个露天游泳池", "rejected", 4, 30, 0, "小区没有符合安全和卫生要求的场地，且维护费用过高"),
)
PATH = {"collecting": ("collecting",), "under_review": ("collecting", "under_review"),
        "in_progress": ("collecting", "under_review", "accepted", "in_progress"),
        "completed": ("collecting", "under_review", "accepted", "in_progress", "completed"),
        "rejected": ("collecting", "rejected")}
RATINGS = ((5, "取件方便多了，再也不用跑驿站"), (4, "很好用，就是高峰期要排队"), (4, ""))


def seed_wishes(session: Session, community: Community) -> None:
    """The menu, a 10-support threshold, five wishes in various states and a few ratings (once)."""
    ensure_catalogue(session, community)
    if session.scalar(select(func.count()).select_from(WishThreshold)
                      .where(WishThreshold.community_id == community.id)) == 0:
        session.add(WishThreshold(community_id=community.id, building=None, mode="absolute", value=THRESHOLD))
    if session.scalar(select(func.count()).select_from(Wish).where(Wish.community_id == community.id)):
        session.flush()
        return
    residents = list(session.scalars(select(Resident).where(Resident.community_id == community.id,
                                                            Resident.household_id.is_not(None))
                                     .order_by(Resident.id).limit(60)))
    if len(residents) < 20:
        return
    committee = session.scalar(select(Staff).where(Staff.community_id == community.id, Staff.role == "committee"))
    items = {i.name: i for i in session.scalars(select(FacilityItem).where(FacilityItem.community_id == community.id))}
    now = utcnow()
    for n, (item_name, title, status, supports, days, progress, reason) in enumerate(DEMO_WISHES):
        item = items.get(item_name) if item_name else None
        created = now - timedelta(days=days)
        supporters = residents[n * 3: n * 3 + supports]
        wish = Wish(community_id=community.id, item_id=item.id if item else None, title=title,
                    description=f"希望小区{title}" if item else title, resident_id=supporters[0].id, status=status,
                    threshold=THRESHOLD, supports_count=len(supporters), progress=progress, reason=reason,
                    source="oa", created_at=created, updated_at=created)
        session.add(wish)
        session.flush()
        for resident in supporters:
            household = resident.household
            session.add(WishSupport(wish_id=wish.id, resident_id=resident.id, created_at=created,
                                    building=household.unit.building.number if household else None))
            session.add(WishFollower(wish_id=wish.id, resident_id=resident.id, created_at=created))
        _history(session, wish, status, committee, created)
        if status in ("in_progress", "completed"):
            session.add(WishMilestone(wish_id=wish.id, percentage=60 if status == "in_progress" else 100,
                                      note="座椅已到货，正在安装" if status == "in_progress" else "已在北门安装启用",
                                      staff_id=committee.id if committee else None,
                                      staff_name=committee.name if committee else "", created_at=now))
        if status == "completed" and item is not None:
            item.built = True
            wish.completed_at = now - timedelta(days=20)
            for resident, (stars, text) in zip(supporters, RATINGS, strict=False):
                session.add(FacilityRating(item_id=item.id, resident_id=resident.id, stars=stars, text=text))
    session.flush()


def _history(session: Session, wish: Wish, status: str, committee: Staff | None, created) -> None:
    steps = PATH[status]
    for i, step in enumerate(steps):
        staff_step = step in ("accepted", "rejected", "in_progress", "completed")
        session.add(WishEvent(
            wish_id=wish.id, kind="created" if i == 0 else step, from_status=steps[i - 1] if i else None,
            to_status=step, actor_kind="staff" if staff_step else ("resident" if i == 0 else "system"),
            actor_id=(committee.id if committee and staff_step else (wish.resident_id if i == 0 else None)),
            actor_name=(committee.name if committee and staff_step else ""),
            note=wish.reason if step == "rejected" else "", created_at=created + timedelta(days=i)))
