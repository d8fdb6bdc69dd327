"""The compiled audience SQL agrees with a plain Python evaluator (hypothesis), and preview/paging work."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from app.campaigns import audience
from app.campaigns.audience import Age, And, AudienceError, HasTag, Node, Not, Or
from app.community.models import Community, Resident, Tag, resident_tag

YEAR = 2026
POOL = ["building:1", "building:2", "health:red", "health:green", "interest:chess", "has_vehicle", "moved_out"]
LEAVES = (st.sampled_from(POOL + ["never_created"]).map(HasTag)
          | st.builds(Age, st.sampled_from([">=", "<=", ">", "<", "=", "!="]), st.integers(0, 100)))
TREES = st.recursive(LEAVES, lambda s: st.builds(Not, s) | st.builds(And, s, s) | st.builds(Or, s, s),
                     max_leaves=8)
PEOPLE = st.lists(
    st.tuples(st.one_of(st.none(), st.integers(1920, 2026)), st.frozensets(st.sampled_from(POOL)),
              st.sampled_from(["active", "active", "active", "moved_out"])),
    min_size=1, max_size=25,
)
_names = itertools.count(1)


def evaluate(node: Node, birth_year: int | None, tags: frozenset[str]) -> bool:
    """The meaning of an expression for one resident, written the obvious way."""
    if isinstance(node, HasTag):
        return node.name in tags
    if isinstance(node, Age):
        if birth_year is None:
            return False
        age = YEAR - birth_year
        return {">=": age >= node.value, "<=": age <= node.value, ">": age > node.value,
                "<": age < node.value, "=": age == node.value, "!=": age != node.value}[node.op]
    if isinstance(node, Not):
        return not evaluate(node.operand, birth_year, tags)
    if isinstance(node, And):
        return evaluate(node.left, birth_year, tags) and evaluate(node.right, birth_year, tags)
    return evaluate(node.left, birth_year, tags) or evaluate(node.right, birth_year, tags)


def _populate(session, people) -> tuple[int, dict[int, tuple]]:
    community = Community(name=f"假设小区{next(_names)}")
    session.add(community)
    session.flush()
    tags = {name: Tag(community_id=community.id, name=name, kind="system") for name in POOL}
    session.add_all(tags.values())
    residents = [Resident(community_id=community.id, name="住户", phone=f"139{next(_names):08d}",
                          birth_year=by, status=status) for by, _t, status in people]
    session.add_all(residents)
    session.flush()
    links = [{"resident_id": r.id, "tag_id": tags[name].id}
             for r, (_by, names, _s) in zip(residents, people, strict=True) for name in names]
    if links:
        session.execute(insert(resident_tag), links)
    # another community's residents carry the same tags and must never be selected
    other = Community(name=f"邻居小区{next(_names)}")
    session.add(other)
    session.flush()
    session.add(Resident(community_id=other.id, name="邻居", phone=f"137{next(_names):08d}", birth_year=1950))
    session.flush()
    return community.id, {r.id: p for r, p in zip(residents, people, strict=True)}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=PEOPLE, tree=TREES)
def test_compiled_sql_agrees_with_python(db_session, people, tree):
    community_id, by_id = _populate(db_session, people)
    expected = sorted(rid for rid, (by, tags, status) in by_id.items()
                      if status == "active" and evaluate(tree, by, tags))
    got = list(db_session.scalars(audience.audience_select(community_id, audience.render(tree), year=YEAR)))
    assert got == expected
    assert audience.count(db_session, community_id, tree, year=YEAR) == len(expected)


def test_pages_by_id_cover_the_audience_once(db_session):
    people = [(1950 + i % 40, frozenset({"building:1"} if i % 3 else {"building:2"}), "active") for i in range(57)]
    community_id, _ = _populate(db_session, people)
    pages, after = [], 0
    while page := audience.page_ids(db_session, community_id, "building:1", after_id=after, limit=10, year=YEAR):
        pages.append(page)
        after = page[-1]
    flat = [rid for page in pages for rid in page]
    assert flat == sorted(set(flat)) and len(flat) == 38 and max(len(p) for p in pages) == 10


def test_preview_counts_and_samples_without_sending(db_session, make_resident, fake_wechat):
    for room in ("101", "102", "103"):
        make_resident("30", "2", room, birth_year=1950, phone=f"1380000{room}1", openid=f"oa_{room}")
    make_resident("31", "1", "101", birth_year=1990)
    community_id = db_session.query(Resident).first().community_id
    from app.community.tags import refresh_all
    refresh_all(db_session, community_id, year=YEAR)
    result = audience.preview(db_session, community_id, "building:30 AND age>=60", year=YEAR)
    assert result["count"] == 3
    assert [s["address"] for s in result["sample"]] == ["30幢2单元101", "30幢2单元102", "30幢2单元103"]
    assert result["sample"][0]["phone"] == "138****1011"
    assert fake_wechat.calls == []


def test_preview_of_a_bad_expression_raises_with_position(db_session, make_community):
    community = make_community()
    with pytest.raises(AudienceError) as err:
        audience.preview(db_session, community.id, "building:30 AND (age>=60")
    assert err.value.position == 24  # the end, where ")" is missing
