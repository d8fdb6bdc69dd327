"""flask seed-demo: the demo community, its residents, tags and staff; idempotent; --if-empty."""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.community import demo
from app.community.demo import DEMO_STAFF, seed_demo
from app.community.models import Building, Community, Resident, Staff, Tag, resident_tag
from app.core.clock import local_now


def count(db_session, stmt) -> int:
    return db_session.scalar(select(func.count()).select_from(stmt.subquery()))


def tagged(db_session, name: str) -> int:
    return count(db_session, select(resident_tag).join(Tag).where(Tag.name == name))


def test_seed_demo_command_builds_the_community_and_prints_logins(app, db_session):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    for seed in DEMO_STAFF:
        assert seed.username in result.output and seed.password in result.output
    assert "o_demo_0001" in result.output

    db_session.expire_all()
    # the demo community (the cockpit's street adds a second one beside it)
    community = db_session.scalar(select(Community).where(Community.name == demo.DEMO_COMMUNITY))
    assert (community.name, community.kind, community.city) == ("邻里未来社区", "old_neighbourhood", "杭州")
    buildings = db_session.scalars(select(Building).where(Building.community_id == community.id)
                                   .order_by(Building.position)).all()
    assert len(buildings) == 12 and {"1", "10", "28", "30"} <= {b.number for b in buildings}
    assert len({b.position for b in buildings}) == 12  # a walking order with no ties

    residents = db_session.scalars(select(Resident).where(Resident.community_id == community.id)).all()
    assert len(residents) >= 150
    assert all(r.household_id is not None and r.phone.isdigit() and len(r.phone) == 11 for r in residents)
    following = [r for r in residents if r.oa_openid]
    assert 0.5 <= len(following) / len(residents) <= 0.7
    assert all(r.oa_openid.startswith("o_demo_") for r in following)
    assert any(r.wxa_openid for r in residents)
    year = local_now().year
    assert sum(year - r.birth_year >= 60 for r in residents) / len(residents) >= 0.3  # many elderly
    assert {r.role for r in residents} == {"owner", "tenant", "family"}
    assert len({r.name for r in residents}) > 100  # varied names


def test_seed_demo_staff_are_scoped_and_passwords_hashed(app, db_session):
    seed_demo(db_session)
    community_id = db_session.scalar(select(Community.id).where(Community.name == demo.DEMO_COMMUNITY))
    usernames = {seed.username for seed in DEMO_STAFF}  # the cockpit's street admin is that feature's own
    staff = {s.username: s for s in db_session.scalars(select(Staff).where(Staff.community_id == community_id))
             if s.username in usernames}

    roles = sorted(s.role for s in staff.values())
    assert roles == ["admin", "committee", "doctor", "doctor", "grid_worker", "property", "repair_worker", "repair_worker",
                     "steward", "steward"]
    for seed in DEMO_STAFF:
        account = staff[seed.username]
        assert account.password_hash != seed.password
        assert check_password_hash(account.password_hash, seed.password)
    repair = [s for s in staff.values() if s.role == "repair_worker"]
    assert all(s.building_scope for s in repair)
    assert set(repair[0].building_scope).isdisjoint(repair[1].building_scope)
    assert all(s.building_scope for s in staff.values() if s.role == "doctor")
    assert staff["admin"].building_scope == []


def test_seed_demo_tags(app, db_session):
    seed_demo(db_session)

    kinds = dict(db_session.execute(select(Tag.name, Tag.kind)).all())
    for interest in ("太极", "书法", "广场舞", "亲子", "求职"):
        assert kinds[f"interest:{interest}"] == "interest"
        assert tagged(db_session, f"interest:{interest}") > 0
    assert kinds["独居老人"] == "manual" and tagged(db_session, "独居老人") > 0
    assert tagged(db_session, "楼长") == 12  # one per building
    assert tagged(db_session, "building:30") > 0 and tagged(db_session, "unit:30-2") > 0
    assert tagged(db_session, "age:80+") > 0
    residents = count(db_session, select(Resident.id))
    assert sum(tagged(db_session, f"role:{r}") for r in ("owner", "tenant", "family")) == residents
    descriptions = db_session.scalars(select(Tag.description).where(Tag.kind == "system")).all()
    assert all(descriptions)


def test_seed_demo_twice_creates_nothing_new(app, db_session):
    app.test_cli_runner().invoke(args=["seed-demo"])
    db_session.expire_all()
    before = [count(db_session, select(m)) for m in (Community, Building, Resident, Staff, Tag, resident_tag)]

    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    db_session.expire_all()
    after = [count(db_session, select(m)) for m in (Community, Building, Resident, Staff, Tag, resident_tag)]
    assert after == before


def test_seed_demo_if_empty_leaves_an_existing_community_alone(app, db_session, make_community):
    make_community("东湖小区")
    db_session.commit()

    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0 and "跳过" in result.output
    db_session.expire_all()
    assert db_session.scalars(select(Community.name)).all() == ["东湖小区"]
    assert count(db_session, select(Resident.id)) == 0


def test_seed_demo_if_empty_seeds_an_empty_database(app, db_session):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0 and "admin" in result.output
    db_session.expire_all()
    assert count(db_session, select(Resident.id)) >= 150


def test_an_appended_seed_step_runs_after_the_others(app, db_session, monkeypatch):
    seen: list[int] = []

    def count_residents(session, community):
        seen.append(session.scalar(select(func.count(Resident.id)).where(Resident.community_id == community.id)))

    monkeypatch.setattr(demo, "_steps", dict(demo._steps))  # the added step is gone after the test
    demo.add_step(count_residents)
    assert demo.steps()[-1] is count_residents
    seed_demo(db_session)

    assert len(seen) == 1 and seen[0] >= 150
