"""Staff accounts: sign-in, and the building scope that limits what each staff member sees."""

from __future__ import annotations

import re

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.community.models import STAFF_ROLES, Building, Community, Household, Resident, Staff, Unit
from app.core.errors import Conflict, Forbidden, Unauthorized, ValidationFailed

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128  # longer input is refused before hashing, so it cannot cost server time
# Checked against when the username is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("linli-no-such-user")
# "30幢2单元1201", "30栋1201", "30-2-1201": a room as residents and staff type it.
_ADDRESS = re.compile(
    r"^(?P<building>[0-9A-Za-z]+)\s*(?:幢|栋|号楼|-)\s*"
    r"(?:(?P<unit>[0-9A-Za-z]+)\s*(?:单元|-)\s*)?(?P<room>[0-9A-Za-z]+)?\s*室?$"
)


def authenticate(session: Session, username: str, password: str) -> Staff:
    """The active staff member with these credentials; raises Unauthorized or Forbidden."""
    if len(password or "") > MAX_PASSWORD_LENGTH:
        raise Unauthorized("用户名或密码不正确", code="bad_credentials")
    staff = session.scalar(select(Staff).where(Staff.username == (username or "").strip()))
    if staff is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise Unauthorized("用户名或密码不正确", code="bad_credentials")
    if not check_password_hash(staff.password_hash, password or ""):
        raise Unauthorized("用户名或密码不正确", code="bad_credentials")
    if not staff.active:  # told only after the password matched, so guessers learn nothing
        raise Forbidden("该账号已停用，请联系管理员", code="staff_inactive")
    return staff


def create_staff(
    session: Session, *, community_id: int, username: str, role: str, password: str,
    name: str | None = None, buildings: list[str] | None = None,
) -> Staff:
    """Add a staff account with a hashed password; raises ValidationFailed or Conflict."""
    username = (username or "").strip()
    if not username or len(username) > 50:
        raise ValidationFailed("用户名不能为空，且不超过 50 个字符")
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"岗位必须是以下之一：{', '.join(STAFF_ROLES)}")
    _check_password_length(password)
    if session.get(Community, community_id) is None:
        raise ValidationFailed("没有这个小区")
    if session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise Conflict("该用户名已被使用", code="username_taken")
    scope = [b.strip() for b in (buildings or []) if b and b.strip()]
    staff = Staff(community_id=community_id, username=username, name=name or username, role=role,
                  password_hash=generate_password_hash(password), building_scope=scope, active=True)
    session.add(staff)
    session.flush()
    return staff


def set_password(session: Session, staff: Staff, password: str) -> None:
    """Replace a staff member's password (hashed); raises ValidationFailed when too short."""
    _check_password_length(password)
    staff.password_hash = generate_password_hash(password)
    end_sessions(staff)
    session.flush()


def end_sessions(staff: Staff) -> None:
    """Sign the staff member out everywhere: every console cookie issued before now stops working."""
    staff.session_version = (staff.session_version or 1) + 1


def _check_password_length(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码长度须在 {MIN_PASSWORD_LENGTH} 到 {MAX_PASSWORD_LENGTH} 位之间")


def visible_buildings(staff: Staff) -> frozenset[str] | None:
    """The building numbers a staff member may see, or None for the whole community."""
    scope = frozenset(str(b) for b in (staff.building_scope or []))
    return scope or None


def resident_building(resident: Resident) -> str | None:
    """The building number a resident lives in, or None when the roster has no room for them."""
    household = resident.household
    return household.unit.building.number if household is not None else None


def can_see_resident(staff: Staff, resident: Resident | None) -> bool:
    """Whether a resident is within this staff member's community and building scope."""
    if resident is None or resident.community_id != staff.community_id:
        return False
    scope = visible_buildings(staff)
    return scope is None or resident_building(resident) in scope


def _scoped(query: Select, staff: Staff) -> Select:
    """Limit a query already joined to Resident and (outer) Building to the staff's scope."""
    query = query.where(Resident.community_id == staff.community_id)
    scope = visible_buildings(staff)
    if scope is not None:
        query = query.where(Building.number.in_(sorted(scope)))
    return query


def _with_address(query: Select) -> Select:
    return (query.outerjoin(Household, Resident.household_id == Household.id)
            .outerjoin(Unit, Household.unit_id == Unit.id)
            .outerjoin(Building, Unit.building_id == Building.id))


def _search(q: str):
    """The WHERE clause for a search box: name, room, phone's last 4 digits or a full address."""
    clauses = [Resident.name.contains(q, autoescape=True)]
    if q.isdigit():
        clauses.append(Household.room == q)
        if len(q) == 4:
            clauses.append(Resident.phone.endswith(q, autoescape=True))
    match = _ADDRESS.match(q)
    if match:
        parts = [Building.number == match["building"]]
        if match["unit"]:
            parts.append(Unit.number == match["unit"])
        if match["room"]:
            parts.append(Household.room == match["room"])
        clauses.append(and_(*parts))
    return or_(*clauses)


def residents_query(session: Session, staff: Staff, q: str | None = None) -> Select:
    """A select of the residents this staff member may see, optionally searched, in address order."""
    query = _scoped(_with_address(select(Resident)), staff)
    q = (q or "").strip()[:50]
    if q:
        query = query.where(_search(q))
    return query.order_by(Building.position, Building.number, Unit.number, Household.room, Resident.id)


def count_residents(session: Session, staff: Staff, *, bound_only: bool = False) -> int:
    """How many active residents this staff member may see (only WeChat-bound ones if asked)."""
    query = _scoped(_with_address(select(func.count(Resident.id))), staff)
    query = query.where(Resident.status == "active")
    if bound_only:
        query = query.where(or_(Resident.oa_openid.is_not(None), Resident.wxa_openid.is_not(None)))
    return session.scalar(query) or 0

