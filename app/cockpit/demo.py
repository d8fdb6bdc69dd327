"""The cockpit's demo: a second, smaller community 「邻里东苑」 with residents and a month of tickets, the street
「未来街道」 over both with its admin (street / demo-street-2026), wall-screen links with public demo tokens, and
the first snapshots. The console's cockpit page shows the links in development."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.cockpit import snapshots, streets, tokens
from app.cockpit.figures import LIVING_ALONE_TAG
from app.cockpit.models import DisplayToken
from app.community.models import Community, Resident, Staff, Tag, resident_tag
from app.community.roster import HouseholdIndex
from app.community.tags import refresh_all
from app.core.clock import utcnow

SECOND_COMMUNITY = "邻里东苑"
STREET = "未来街道"
STREET_ADMIN = ("street", "demo-street-2026", "街道管理员")
DEMO_WALL_TOKEN = "demo-wall-2026"  # public on purpose: demo data exists only in development
DEMO_STREET_WALL_TOKEN = "demo-street-wall-2026"
SEED = 2027
EAST_BUILDINGS = (("1", 2, 6), ("2", 2, 6), ("3", 2, 11), ("5", 1, 6))  # number, units, floors (2 rooms a floor)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "秀英 建国 丽华 志强 伟 静 磊 婷婷 子涵 浩然 桂兰 玉珍 国华 红梅 晓燕 一诺".split()
TICKET_MIX = (("repair", "water"), ("repair", "elevator"), ("repair", "lighting"), ("complaint", "noise"),
              ("complaint", "parking"), ("repair", "door"))


def seed_cockpit(session: Session, community: Community) -> None:
    """The second community, the street and its admin, the demo wall links and both snapshots."""
    east = session.scalar(select(Community).where(Community.name == SECOND_COMMUNITY))
    if east is None:
        east = Community(name=SECOND_COMMUNITY, kind="standard", city=community.city)
        session.add(east)
        session.flush()
        _seed_east(session, east)
    admin = session.scalar(select(Staff).where(Staff.username == STREET_ADMIN[0]))
    if admin is None:
        admin = Staff(community_id=community.id, username=STREET_ADMIN[0], name=STREET_ADMIN[2], role="admin",
                      password_hash=generate_password_hash(STREET_ADMIN[1]))
        session.add(admin)
        session.flush()
    street = streets.ensure_street(session, STREET, [community.id, east.id], [admin.id])
    for value, label, street_id in ((DEMO_WALL_TOKEN, "演示大屏（物业大厅）", None),
                                    (DEMO_STREET_WALL_TOKEN, "演示街道大屏", street.id)):
        if session.scalar(select(DisplayToken).where(DisplayToken.token_hash == tokens.token_hash(value))) is None:
            session.add(DisplayToken(community_id=community.id, street_id=street_id, label=label,
                                     token_hash=tokens.token_hash(value), created_by_id=admin.id))
    session.flush()
    now = utcnow()
    for community_id in (community.id, east.id):
        snapshots.refresh(session, community_id, now)


def _seed_east(session: Session, east: Community) -> None:
    rng = random.Random(SEED)
    index = HouseholdIndex(session, east)
    year = utcnow().year
    people = []
    for number, units, floors in EAST_BUILDINGS:
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for door in (1, 2):
                    household = index.household(number, str(unit), f"{floor}{door:02d}")
                    for _ in range(rng.choice((0, 1, 2, 2, 3))):
                        birth = rng.randint(year - 90, year - 3)
                        people.append(Resident(
                            community_id=east.id, household=household, birth_year=birth, status="active",
                            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                            phone=f"139{len(people) + 1:08d}", role="owner"))
    session.add_all(people)
    session.flush()
    alone = Tag(community_id=east.id, name=LIVING_ALONE_TAG, kind="manual", description="独居的 70 岁以上老人")
    session.add(alone)
    session.flush()
    elderly = [p for p in people if year - p.birth_year >= 75][:9]
    if elderly:
        session.execute(insert(resident_tag), [{"resident_id": p.id, "tag_id": alone.id} for p in elderly])
    refresh_all(session, east.id)
    _seed_east_tickets(session, east, people, rng)


def _seed_east_tickets(session: Session, east: Community, people: list[Resident], rng: random.Random) -> None:
    """A month of tickets, most closed, some open and a few past their SLA, so trends and the plan show colour."""
    from app.tickets.models import Ticket  # noqa: PLC0415 - demo rows only when tickets are installed

    if not people or session.scalar(select(func.count(Ticket.id)).where(Ticket.community_id == east.id)):
        return
    now = utcnow()
    for n in range(60):
        kind, category = rng.choice(TICKET_MIX)
        resident = rng.choice(people)
        created = now - timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 12))
        open_ = created > now - timedelta(days=3)
        status = rng.choice(("submitted", "accepted", "in_progress")) if open_ else "closed"
        session.add(Ticket(
            community_id=east.id, kind=kind, category=category, status=status, resident_id=resident.id,
            household_id=resident.household_id, building=resident.household.unit.building.number,
            place="楼道", description="演示工单", source="console", created_at=created, updated_at=created,
            sla_due_at=created + timedelta(hours=4), accepted_at=None if status == "submitted" else created,
            closed_at=None if open_ else created + timedelta(days=1), number=f"DY{n:06d}"))
    session.flush()


def demo_wall_path(session: Session, staff: Staff, config: Mapping) -> dict | None:
    """In development, the demo's wall-screen links and street login for the cockpit page to show."""
    if config.get("LINLI_ENV") != "development":
        return None
    row = tokens.find(session, DEMO_WALL_TOKEN)
    if row is None or row.community_id != staff.community_id:
        return None
    street = tokens.find(session, DEMO_STREET_WALL_TOKEN)
    return {"wall": f"/cockpit/wall/{DEMO_WALL_TOKEN}",
            "street_wall": f"/cockpit/wall/{DEMO_STREET_WALL_TOKEN}" if street is not None else None,
            "street_login": f"{STREET_ADMIN[0]} / {STREET_ADMIN[1]}"}
