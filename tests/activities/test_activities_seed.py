"""The demo seed: clubs (太极拳, 书法, 合唱 … 老年大学 courses) with members, sessions in the coming two weeks
from whatever today is, one-off activities with sign-ups, and about thirty merchants with coupons; once."""

from __future__ import annotations

from sqlalchemy import func, select

from app.activities.demo import DEMO_CLUBS, seed_activities
from app.activities.models import Activity, Club, ClubMember, Signup
from app.community.demo import DEMO_COMMUNITY, seed_demo, steps
from app.community.models import Community
from app.core.clock import utcnow
from app.merchants.demo import seed_merchants
from app.merchants.models import Coupon, Merchant


def test_demo_clubs_activities_and_merchants(app, db_session):
    assert seed_activities in steps() and seed_merchants in steps()
    seed_demo(db_session)
    db_session.commit()
    community = db_session.scalar(select(Community).where(Community.name == DEMO_COMMUNITY))
    names = set(db_session.scalars(select(Club.name).where(Club.community_id == community.id)))
    assert len(names) == len(DEMO_CLUBS) >= 15
    for needed in ("太极拳", "书法社", "合唱团", "舞蹈队", "乒乓球俱乐部", "象棋社", "编织小组", "摄影社", "读书会",
                   "园艺小组", "亲子乐园", "志愿者服务队"):
        assert needed in names
    assert any(n.startswith("老年大学") for n in names)
    count = db_session.scalar(select(func.count()).select_from(Activity).where(Activity.starts_at > utcnow()))
    assert count >= 25
    assert db_session.scalar(select(func.count()).select_from(ClubMember)) > 100
    assert db_session.scalar(select(func.count()).select_from(Signup).where(Signup.status == "waiting")) >= 1
    assert db_session.scalar(select(func.count()).select_from(Merchant)) >= 30
    assert db_session.scalar(select(func.count()).select_from(Coupon)) >= 15
    before = db_session.scalar(select(func.count()).select_from(Activity))
    seed_demo(db_session)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Club)) == len(DEMO_CLUBS)
    assert db_session.scalar(select(func.count()).select_from(Activity)) == before
