"""System tags: kept current from roster facts by a list of tag rules, refreshed in bulk.

A rule owns one name prefix ("building", "age", ...) and says which values a resident
should carry. Refreshing a batch costs a fixed number of queries, whatever its size:
one for the facts, one for the tag catalogue, one for the current links, and one
bulk insert and one bulk delete for the difference. Features add rules of their own with
add_rule() (the clinic's health colours); a rule that needs more than the roster facts loads
its own data for the whole batch through `load`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.community.models import Building, Household, Resident, Tag, Unit, resident_tag
from app.core.clock import local_now

CHUNK = 500  # ids per IN (...) clause, well under every backend's parameter limit

AGE_BANDS: tuple[tuple[str, int, int | None, str], ...] = (
    ("under18", 0, 17, "未满 18 岁"),
    ("18-34", 18, 34, "18–34 岁"),
    ("35-59", 35, 59, "35–59 岁"),
    ("60-69", 60, 69, "60–69 岁"),
    ("70-79", 70, 79, "70–79 岁"),
    ("80+", 80, None, "80 岁及以上"),
)
ROLE_LABELS = {"owner": "业主", "tenant": "租户", "family": "家属"}


@dataclass(frozen=True)
class ResidentFacts:
    """What the roster knows about one resident, read in bulk for the rules."""

    resident_id: int
    building: str | None
    unit: str | None
    birth_year: int | None
    role: str
    year: int  # the current year in Asia/Shanghai, so ages are computed once per batch


@dataclass(frozen=True)
class TagRule:
    """One family of system tags: `values` gives a resident's values, `describe` a Chinese label."""

    prefix: str
    values: Callable[[ResidentFacts, Any], Iterable[str]]
    describe: Callable[[str], str]
    # Optional bulk loader: (session, resident_ids) -> {resident_id: data}; data reaches `values`.
    load: Callable[[Session, list[int]], dict[int, Any]] | None = field(default=None)


def age_band(birth_year: int | None, year: int) -> str | None:
    """The age band ("60-69", "80+", ...) of someone born in birth_year, None when unknown."""
    if birth_year is None or birth_year > year:
        return None
    age = year - birth_year
    for band, low, high, _label in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return band
    return None


def _describe_unit(value: str) -> str:
    building, _, unit = value.partition("-")
    return f"{building}幢{unit}单元住户"


_AGE_LABELS = {band: label for band, _low, _high, label in AGE_BANDS}

_BASE_RULES = [
    TagRule("building", lambda f, _: [f.building] if f.building else [], lambda v: f"{v}幢住户"),
    TagRule(
        "unit",
        lambda f, _: [f"{f.building}-{f.unit}"] if f.building and f.unit else [],
        _describe_unit,
    ),
    TagRule(
        "age",
        lambda f, _: [b] if (b := age_band(f.birth_year, f.year)) else [],
        lambda v: _AGE_LABELS.get(v, v),
    ),
    TagRule(
        "role",
        lambda f, _: [f.role] if f.role in ROLE_LABELS else [],
        lambda v: ROLE_LABELS.get(v, v),
    ),
]


SYSTEM_TAG_RULES: dict[str, TagRule] = {rule.prefix: rule for rule in _BASE_RULES}


def add_rule(rule: TagRule) -> None:
    """Keep the tags with this rule's prefix current too (the same prefix again replaces the rule)."""
    SYSTEM_TAG_RULES[rule.prefix] = rule


def refresh_system_tags(session: Session, resident: Resident, *, year: int | None = None) -> None:
    """Bring one resident's system tags up to date with their roster facts."""
    session.flush()
    _refresh(session, resident.community_id, [resident.id], year=year)


def refresh_residents(
    session: Session, community_id: int, resident_ids: Sequence[int], *, year: int | None = None
) -> None:
    """Bring the system tags of some residents of a community up to date, in bulk."""
    session.flush()
    _refresh(session, community_id, list(resident_ids), year=year)


def refresh_all(session: Session, community_id: int, *, year: int | None = None) -> None:
    """Bring the system tags of every resident of a community up to date, in bulk."""
    session.flush()
    _refresh(session, community_id, None, year=year)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _load_facts(
    session: Session, community_id: int, resident_ids: list[int] | None, year: int
) -> dict[int, ResidentFacts]:
    """Active residents' facts; moved-out residents carry no system tags, so they are left out."""
    base = (
        select(Resident.id, Building.number, Unit.number, Resident.birth_year, Resident.role, Resident.status)
        .outerjoin(Household, Resident.household_id == Household.id)
        .outerjoin(Unit, Household.unit_id == Unit.id)
        .outerjoin(Building, Unit.building_id == Building.id)
        .where(Resident.community_id == community_id)
    )
    batches = [base] if resident_ids is None else [base.where(Resident.id.in_(c)) for c in _chunks(resident_ids)]
    facts = {}
    for stmt in batches:
        for rid, building, unit, birth_year, role, status in session.execute(stmt):
            if status == "active":
                facts[rid] = ResidentFacts(rid, building, unit, birth_year, role, year)
    return facts


def _wanted(session: Session, facts: dict[int, ResidentFacts]) -> dict[int, dict[str, str]]:
    """For each resident, the system tag names they should carry, with their descriptions."""
    ids = list(facts)
    wanted: dict[int, dict[str, str]] = {rid: {} for rid in ids}
    for rule in SYSTEM_TAG_RULES.values():
        extra = rule.load(session, ids) if rule.load and ids else {}
        for rid, fact in facts.items():
            for value in rule.values(fact, extra.get(rid)):
                wanted[rid][f"{rule.prefix}:{value}"] = rule.describe(value)
    return wanted


def _managed(name: str) -> bool:
    return name.partition(":")[0] in set(SYSTEM_TAG_RULES)


def _refresh(session: Session, community_id: int, resident_ids: list[int] | None, *, year: int | None) -> None:
    year = year or local_now().year
    facts = _load_facts(session, community_id, resident_ids, year)
    wanted = _wanted(session, facts)
    scope = list(facts) if resident_ids is None else resident_ids

    catalogue = {
        tag.name: tag
        for tag in session.scalars(select(Tag).where(Tag.community_id == community_id, Tag.kind == "system"))
    }
    for names in wanted.values():
        for name, description in names.items():
            tag = catalogue.get(name)
            if tag is None:
                catalogue[name] = Tag(community_id=community_id, name=name, kind="system", description=description)
                session.add(catalogue[name])
            elif tag.description != description:
                tag.description = description
    session.flush()
    managed_ids = {tag.id: name for name, tag in catalogue.items() if _managed(name)}

    current: dict[int, set[int]] = {}
    link_query = select(resident_tag.c.resident_id, resident_tag.c.tag_id).where(
        resident_tag.c.tag_id.in_(select(Tag.id).where(Tag.community_id == community_id, Tag.kind == "system"))
    )
    batches = [link_query] if resident_ids is None else [
        link_query.where(resident_tag.c.resident_id.in_(c)) for c in _chunks(resident_ids)
    ]
    for stmt in batches:
        for rid, tag_id in session.execute(stmt):
            if tag_id in managed_ids:
                current.setdefault(rid, set()).add(tag_id)

    to_add: list[dict[str, int]] = []
    to_remove: dict[int, list[int]] = {}  # tag id -> residents losing it
    for rid in set(scope) | set(current):
        want = {catalogue[name].id for name in wanted.get(rid, {})}
        have = current.get(rid, set())
        to_add += [{"resident_id": rid, "tag_id": tid} for tid in want - have]
        for tid in have - want:
            to_remove.setdefault(tid, []).append(rid)
    if to_add:
        session.execute(insert(resident_tag), to_add)
    for tid, rids in to_remove.items():
        for chunk in _chunks(rids):
            session.execute(
                delete(resident_tag).where(resident_tag.c.tag_id == tid, resident_tag.c.resident_id.in_(chunk))
            )
    # The links changed behind the ORM's back: loaded `tags` collections must be reloaded.
    changed = {row["resident_id"] for row in to_add} | {r for rids in to_remove.values() for r in rids}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Resident) and obj.id in changed:
            session.expire(obj, ["tags"])
