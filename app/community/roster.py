"""Roster import: normalise and check every row, then create or update residents in one go.

A roster with any bad row imports nothing: every row is checked first and all the
problems are reported together, each with its row number as Excel shows it. A
resident is identified by community + phone, so importing again updates instead of
duplicating, and a changed room moves the resident to the new household.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Building, Community, Household, Resident, Unit
from app.community.rooms import normalise_phone
from app.community.roster_file import RosterLine, read_roster
from app.community.tags import refresh_residents
from app.core.clock import local_now
from app.core.errors import NotFound
from nlp.numerals import to_int

__all__ = [
    "DEFAULT_COMMUNITY", "HouseholdIndex", "ImportReport", "RosterRow", "RowError", "import_roster", "parse_row",
    "read_roster", "resolve_community",
]

DEFAULT_COMMUNITY = "邻里未来社区"
ROLE_WORDS = {
    "owner": "owner", "业主": "owner", "房东": "owner", "产权人": "owner", "户主": "owner",
    "tenant": "tenant", "租户": "tenant", "租客": "tenant", "承租人": "tenant",
    "family": "family", "家属": "family", "家庭成员": "family", "同住人": "family", "同住": "family",
}
EARLIEST_BIRTH_YEAR = 1900
_PLACE = re.compile(r"^[0-9A-Z]{1,10}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")  # area code 0xx / 0xxx + 7-8 digit number
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_BIRTH = re.compile(r"^(\d{4})(?:年|(?:[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?月?))?$")


@dataclass(frozen=True)
class RosterRow:
    """One roster row, normalised; role and birth_year are None when the file leaves them blank."""

    line: int
    building: str
    unit: str
    room: str
    name: str
    phone: str
    birth_year: int | None
    role: str | None
    openid: str | None


@dataclass(frozen=True)
class RowError:
    """A bad row: its number as Excel shows it and what is wrong, in Chinese."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, with errors, why it did nothing)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the roster had no bad rows."""
        return not self.errors

    def summary(self) -> str:
        """One line for the manager."""
        if self.errors:
            return f"名册有 {len(self.errors)} 行有问题，未导入任何数据（共 {self.rows} 行）"
        return f"新建 {self.created} 人，更新 {self.updated} 人，未变 {self.unchanged} 人（共 {self.rows} 行）"


# ---- normalising one row -------------------------------------------------------------

def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _place(text: str, marks: str) -> str | None:
    """"30幢" / "30号楼" / "三十栋" -> "30"; "2单元" -> "2"; None when it is not a number or code."""
    value = re.sub(r"\s+", "", _clean(text)).upper()
    value = re.sub(rf"(?:{marks})$", "", value)
    if value and not value.isascii():
        number = to_int(value)
        value = str(number) if number else value
    return value if _PLACE.match(value) else None


def _phone(text: str) -> tuple[str | None, str]:
    raw = _clean(text)
    if re.match(r"^\d(\.\d+)?E\+\d+$", raw, re.IGNORECASE):
        return None, f"手机「{raw}」被 Excel 改成了科学计数法，请把该列设为文本后重新填写"
    digits = normalise_phone(raw)
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits, ""
    return None, f"手机「{raw}」不是 11 位手机号，也不是带区号的固定电话"


def _birth_year(text: str, this_year: int) -> tuple[int | None, str]:
    raw = _clean(text).replace(" ", "")
    if raw.endswith(".0"):
        raw = raw[:-2]
    match = _BIRTH.match(raw)
    if not match:
        return None, f"出生年份「{raw}」应为 4 位年份，如 1956"
    year = int(match.group(1))
    if not EARLIEST_BIRTH_YEAR <= year <= this_year:
        return None, f"出生年份「{raw}」不在 {EARLIEST_BIRTH_YEAR}–{this_year} 之间"
    return year, ""


def parse_row(line: RosterLine, *, this_year: int | None = None) -> RosterRow | RowError:
    """Normalise one roster row, or say everything that is wrong with it."""
    this_year = this_year or local_now().year
    v = {key: _clean(value) for key, value in line.values.items()}
    problems: list[str] = []

    building = _place(v.get("building", ""), "号楼|幢|栋|号|楼|座|#")
    if building is None:
        problems.append(f"楼栋「{v.get('building', '')}」应为楼号，如 30 或 30幢" if v.get("building") else "缺少楼栋")
    unit = _place(v.get("unit", ""), "单元")
    if unit is None:
        problems.append(f"单元「{v.get('unit', '')}」应为单元号，如 2 或 2单元" if v.get("unit") else "缺少单元")
    room = _place(v.get("room", ""), "室|号")
    if room is None:
        problems.append(f"房号「{v.get('room', '')}」应为房间号，如 1201" if v.get("room") else "缺少房号")

    name = re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", v.get("name", ""))  # "王  芳" -> "王芳"
    if not name:
        problems.append("缺少姓名")
    elif len(name) > 50:
        problems.append("姓名超过 50 个字")

    phone = None
    if not v.get("phone"):
        problems.append("缺少手机")
    else:
        phone, why = _phone(v["phone"])
        if why:
            problems.append(why)

    birth_year = None
    if v.get("birth_year"):
        birth_year, why = _birth_year(v["birth_year"], this_year)
        if why:
            problems.append(why)

    role = None
    if v.get("role"):
        role = ROLE_WORDS.get(v["role"].lower().replace(" ", ""))
        if role is None:
            problems.append(f"身份「{v['role']}」应为 业主、租户 或 家属")

    openid = v.get("openid") or None
    if openid and not _OPENID.match(openid):
        problems.append(f"openid「{openid}」格式不对")

    if problems:
        return RowError(line.line, "；".join(problems))
    return RosterRow(line.line, building, unit, room, name, phone, birth_year, role, openid)


# ---- importing ----------------------------------------------------------------------

def resolve_community(session: Session, name: str | None = None) -> Community:
    """The community named, created if new; unnamed: the only/first one, else 「邻里未来社区」."""
    name = (name or "").strip()
    if name:
        community = session.scalar(select(Community).where(Community.name == name))
    else:
        community = session.scalar(select(Community).order_by(Community.id).limit(1))
        name = DEFAULT_COMMUNITY
    if community is None:
        community = Community(name=name)
        session.add(community)
        session.flush()
    return community


def _as_lines(rows: Iterable[RosterLine | Mapping[str, str]]) -> list[RosterLine]:
    """Rows as RosterLines; plain dicts are numbered as if row 1 were the header."""
    return [
        row if isinstance(row, RosterLine) else RosterLine(index + 2, {k: str(v or "") for k, v in row.items()})
        for index, row in enumerate(rows)
    ]


def _check_rows(session: Session, community_id: int, lines: list[RosterLine]) -> tuple[list[RosterRow], list[RowError]]:
    """Every row normalised and checked against the others and against openids already bound."""
    this_year = local_now().year
    good: list[RosterRow] = []
    errors: dict[int, list[str]] = {}
    phones: dict[str, int] = {}
    openids: dict[str, int] = {}
    for line in lines:
        if line.blank:
            continue
        parsed = parse_row(line, this_year=this_year)
        if isinstance(parsed, RowError):
            errors.setdefault(parsed.line, []).append(parsed.reason)
            continue
        if parsed.phone in phones:
            errors.setdefault(parsed.line, []).append(f"手机 {parsed.phone} 与第 {phones[parsed.phone]} 行重复")
            continue
        phones[parsed.phone] = parsed.line
        if parsed.openid and parsed.openid in openids:
            errors.setdefault(parsed.line, []).append(f"openid 与第 {openids[parsed.openid]} 行重复")
            continue
        if parsed.openid:
            openids[parsed.openid] = parsed.line
        good.append(parsed)

    wanted = [row for row in good if row.openid]
    holders: dict[str, tuple[int, str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = [row.openid for row in wanted[start : start + 500]]
        query = select(Resident.oa_openid, Resident.community_id, Resident.phone, Resident.name).where(
            Resident.oa_openid.in_(chunk)
        )
        for openid, holder_community, holder_phone, holder_name in session.execute(query):
            holders[openid] = (holder_community, holder_phone, holder_name)
    for row in wanted:
        holder = holders.get(row.openid)
        if holder and (holder[0], holder[1]) != (community_id, row.phone):
            errors.setdefault(row.line, []).append(f"openid 已绑定在另一位居民（{holder[2]}）名下")

    good = [row for row in good if row.line not in errors]
    return good, [RowError(line, "；".join(reasons)) for line, reasons in sorted(errors.items())]


class HouseholdIndex:
    """The community's buildings, units and rooms, loaded once and created when missing."""

    def __init__(self, session: Session, community: Community) -> None:
        self.session = session
        self.community = community
        self.buildings = {
            b.number: b for b in session.scalars(select(Building).where(Building.community_id == community.id))
        }
        units = session.execute(
            select(Unit, Building.number).join(Building).where(Building.community_id == community.id)
        )
        self.units = {(b, u.number): u for u, b in units}
        households = session.execute(
            select(Household, Unit.number, Building.number)
            .join(Unit, Household.unit_id == Unit.id)
            .join(Building, Unit.building_id == Building.id)
            .where(Building.community_id == community.id)
        )
        self.households = {(b, u, h.room): h for h, u, b in households}

    def household(self, building: str, unit: str, room: str) -> Household:
        """The household at this address, created with its building and unit if new."""
        key = (building, unit, room)
        if key in self.households:
            return self.households[key]
        b = self.buildings.get(building)
        if b is None:
            b = Building(community=self.community, number=building, position=int(building) if building.isdigit() else 0)
            self.buildings[building] = b
        u = self.units.get((building, unit))
        if u is None:
            u = Unit(building=b, number=unit)
            self.units[(building, unit)] = u
        h = Household(unit=u, room=room)
        self.session.add(h)
        self.households[key] = h
        return h


def _apply(resident: Resident, row: RosterRow, household: Household) -> bool:
    """Copy the row onto an existing resident; blank cells keep what is known. True if it changed."""
    changes = {"name": row.name, "status": "active"}
    if row.birth_year is not None:
        changes["birth_year"] = row.birth_year
    if row.role is not None:
        changes["role"] = row.role
    if row.openid is not None:
        changes["oa_openid"] = row.openid
    changed = False
    for attr, value in changes.items():
        if getattr(resident, attr) != value:
            setattr(resident, attr, value)
            changed = True
    if household.id is None or resident.household_id != household.id:
        resident.household = household
        changed = True
    return changed


def import_roster(
    session: Session,
    rows: Iterable[RosterLine | Mapping[str, str]],
    community_id: int,
    *,
    progress: Callable[[int], object] | None = None,
) -> ImportReport:
    """Import roster rows into a community; with any bad row nothing is written (flushes, never commits)."""
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound("没有这个小区", code="community_not_found")
    lines = [line for line in _as_lines(rows) if not line.blank]
    report = ImportReport(rows=len(lines))
    good, report.errors = _check_rows(session, community_id, lines)
    if report.errors:
        return report

    places = HouseholdIndex(session, community)
    existing = {r.phone: r for r in session.scalars(select(Resident).where(Resident.community_id == community_id))}
    touched: list[Resident] = []
    for row in good:
        household = places.household(row.building, row.unit, row.room)
        resident = existing.get(row.phone)
        if resident is None:
            resident = Resident(
                community_id=community_id, household=household, name=row.name, phone=row.phone,
                birth_year=row.birth_year, role=row.role or "owner", oa_openid=row.openid, status="active",
            )
            session.add(resident)
            existing[row.phone] = resident
            report.created += 1
        elif _apply(resident, row, household):
            report.updated += 1
        else:
            report.unchanged += 1
        touched.append(resident)
        if progress:
            progress(1)
    session.flush()
    refresh_residents(session, community_id, [r.id for r in touched])
    return report
