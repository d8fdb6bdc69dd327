"""The demo seed's wish step: the old-neighbourhood menu, wishes in various states with supports, ratings; once."""

from __future__ import annotations

from sqlalchemy import func, select

from app.community.demo import seed_demo, steps
from app.core.outbox_job import OutboxJob
from app.wishes import catalogue as wish_catalogue
from app.wishes import wishes
from app.wishes.demo import seed_wishes
from app.wishes.models import FacilityItem, FacilityRating, Wish, WishSupport


def test_seed_builds_the_menu_wishes_and_ratings_once(app, db_session):
    assert seed_wishes in steps()
    seed_demo(db_session)
    db_session.commit()
    statuses = sorted(db_session.scalars(select(Wish.status)))
    assert statuses == sorted(["collecting", "under_review", "in_progress", "completed", "rejected"])
    for wish in db_session.scalars(select(Wish)):
        counted = db_session.scalar(select(func.count()).select_from(WishSupport).where(WishSupport.wish_id == wish.id))
        assert counted == wish.supports_count and wish.events[0].kind == "created"
    community_id = db_session.scalar(select(Wish.community_id).limit(1))
    names = [i.name for i in wish_catalogue.items(db_session, community_id)]
    assert "楼道扶手" in names  # the demo community is an old neighbourhood
    lockers = db_session.scalar(select(FacilityItem).where(FacilityItem.name == "快递柜"))
    assert lockers.built and wish_catalogue.ratings(db_session, [lockers.id])[lockers.id].count == 3
    assert wishes.threshold_for(db_session, community_id) == 10
    assert db_session.scalar(select(func.count()).select_from(OutboxJob).where(
        OutboxJob.func.like("app.wishes.jobs%"))) == 0  # seeding tells nobody
    before = db_session.scalar(select(func.count()).select_from(FacilityRating))
    seed_demo(db_session)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Wish)) == 5
    assert db_session.scalar(select(func.count()).select_from(FacilityRating)) == before
