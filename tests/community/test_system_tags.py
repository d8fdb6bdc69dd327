"""System tags: the rules, one resident, and a bulk refresh whose query count does not grow."""

from __future__ import annotations

import time

from sqlalchemy import event, insert, select

from app.community import tags as tag_service
from app.community.models import Resident, Tag, resident_tag
from app.community.tags import TagRule, age_band, refresh_all, refresh_system_tags
from app.core.db import db


def names(db_session, resident: Resident) -> set[str]:
    db_session.expire(resident, ["tags"])
    return {t.name for t in resident.tags}


def test_age_bands_at_their_edges():
    year = 2026
    cases = {2008: "18-34", 2009: "under18", 1992: "18-34", 1991: "35-59", 1967: "35-59",
             1966: "60-69", 1957: "60-69", 1956: "70-79", 1947: "70-79", 1946: "80+", 1920: "80+"}
    assert {born: age_band(born, year) for born in cases} == cases
    assert age_band(None, year) is None and age_band(2030, year) is None


def test_one_resident_gets_building_unit_age_and_role(db_session, make_resident):
    resident = make_resident("30", "2", "1201", birth_year=1950, role="tenant")
    refresh_system_tags(db_session, resident, year=2026)

    assert names(db_session, resident) == {"building:30", "unit:30-2", "age:70-79", "role:tenant"}
    catalogue = dict(db_session.execute(select(Tag.name, Tag.description).where(Tag.kind == "system")).all())
    assert catalogue["building:30"] == "30幢住户" and catalogue["unit:30-2"] == "30幢2单元住户"
    assert catalogue["age:70-79"] == "70–79 岁" and catalogue["role:tenant"] == "租户"


def test_refresh_follows_changes_and_leaves_other_tags_alone(db_session, make_resident, make_household):
    resident = make_resident("30", "2", "1201", birth_year=1950)
    community_id = resident.community_id
    chess = Tag(community_id=community_id, name="interest:象棋", kind="interest")
    leader = Tag(community_id=community_id, name="楼长", kind="manual")
    db_session.add_all([chess, leader])
    resident.tags += [chess, leader]
    refresh_system_tags(db_session, resident, year=2026)

    resident.household = make_household("5", "1", "101")
    resident.role = "family"
    refresh_system_tags(db_session, resident, year=2031)  # five years on: 81

    assert names(db_session, resident) == {"building:5", "unit:5-1", "age:80+", "role:family", "interest:象棋", "楼长"}

    resident.status = "moved_out"
    refresh_all(db_session, community_id, year=2031)
    assert names(db_session, resident) == {"interest:象棋", "楼长"}


def test_an_appended_rule_is_applied_with_its_bulk_loader(db_session, make_resident, monkeypatch):
    elder = make_resident("1", birth_year=1940)
    young = make_resident("1", room="102", birth_year=1990)
    loads: list[list[int]] = []

    def load(session, ids):
        loads.append(sorted(ids))
        return {elder.id: "hypertension"}

    rule = TagRule("health", lambda facts, data: [data] if data else [], lambda v: {"hypertension": "高血压"}[v], load)
    monkeypatch.setattr(tag_service, "SYSTEM_TAG_RULES", dict(tag_service.SYSTEM_TAG_RULES))
    tag_service.add_rule(rule)
    refresh_all(db_session, elder.community_id, year=2026)

    assert "health:hypertension" in names(db_session, elder)
    assert not any(n.startswith("health:") for n in names(db_session, young))
    assert loads == [sorted([elder.id, young.id])]  # one load for the whole batch


def _populate(db_session, make_resident, community, n: int) -> None:
    first = make_resident("1", community=community, phone=f"15{community.id:03d}000000")
    db_session.execute(insert(Resident), [
        {"community_id": community.id, "household_id": first.household_id, "name": f"住户{i}",
         "phone": f"15{community.id:03d}1{i:05d}", "birth_year": 1930 + i % 90,
         "role": ("owner", "tenant", "family")[i % 3], "status": "active"}
        for i in range(n)
    ])


def _refresh_counting(db_session, community_id: int) -> tuple[int, float]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        started = time.perf_counter()
        refresh_all(db_session, community_id, year=2026)
        return len(statements), time.perf_counter() - started
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_bulk_refresh_costs_the_same_queries_for_90_or_3000_residents(db_session, make_resident, make_community):
    small, big = make_community(), make_community()
    _populate(db_session, make_resident, small, 90)
    _populate(db_session, make_resident, big, 3000)

    small_count, _ = _refresh_counting(db_session, small.id)
    big_count, elapsed = _refresh_counting(db_session, big.id)

    assert big_count == small_count <= 20
    big_links = select(resident_tag).join(Resident).where(Resident.community_id == big.id)
    assert len(db_session.execute(big_links).all()) == 3001 * 4  # building, unit, age band, role each
    again, _ = _refresh_counting(db_session, big.id)  # nothing to change: reads only
    assert again <= 4
    print(f"refresh_all of 3001 residents: {elapsed * 1000:.0f} ms, {big_count} statements")
