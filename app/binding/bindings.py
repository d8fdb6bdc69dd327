"""Binding a WeChat user to a roster resident: by room + phone (confirmed by code or staff), or by verified phone."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session

from app.binding.models import Binding, MiniProgramSession
from app.community.bound import UNKNOWN, remember_resident, remembered_resident, with_address
from app.community.models import Building, Household, Resident, Staff, Unit
from app.community.rooms import normalise_phone
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from app.core.outbox import enqueue

CHANNELS = ("oa", "wxa")
BINDING_TTL = timedelta(hours=24)
MAX_CODE_ATTEMPTS = 5
MAX_REQUESTS_PER_DAY = 5


# (session, channel, openid, resident) -> None, run when a WeChat user is recognised as a resident
BoundHook = Callable[[Session, str, str, Resident], None]
_on_bound: dict[str, BoundHook] = {}


def add_bound_hook(hook: BoundHook) -> None:
    """Run hook whenever a binding is confirmed (the chat links the user's conversation to the resident)."""
    _on_bound[f"{hook.__module__}.{hook.__qualname__}"] = hook


def _openid_column(channel: str):
    if channel not in CHANNELS:
        raise ValidationFailed("未知的渠道", code="bad_channel")
    return Resident.oa_openid if channel == "oa" else Resident.wxa_openid


def resident_for_openid(session: Session, channel: str, openid: str) -> Resident | None:
    """The active resident bound to this WeChat user on this channel, if any."""
    column = _openid_column(channel)
    known = remembered_resident(session, channel, openid)  # read with the conversation or the token
    if known is None:
        return None
    if known is not UNKNOWN and known in session and known.status == "active" and getattr(known, column.key) == openid:
        return known
    return session.scalar(select(Resident).where(column == openid, Resident.status == "active"))


def find_household(
    session: Session, *, building: str, unit: str | None, room: str, community_id: int | None = None
) -> Household | None:
    """The household at building/unit/room (unit may be omitted when the room is unique in the building)."""
    query = (
        select(Household)
        .join(Unit, Household.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Building.number == str(building), Household.room == str(room))
    )
    if unit:
        query = query.where(Unit.number == str(unit))
    if community_id is not None:
        query = query.where(Building.community_id == community_id)
    found = session.scalars(query.limit(2)).all()
    return found[0] if len(found) == 1 else None


def _address(building: str, unit: str | None, room: str) -> str:
    return f"{building}幢{unit + '单元' if unit else ''}{room}室"


def start_binding(
    session: Session, *, channel: str, openid: str, building: str, unit: str | None, room: str,
    phone: str, community_id: int | None = None,
) -> Binding:
    """Match room + phone against the roster and open a pending binding (code or staff approval)."""
    column = _openid_column(channel)
    if resident_for_openid(session, channel, openid):
        raise Conflict("您已经绑定过房屋了，如需更换请联系物业", code="already_bound")
    since = utcnow() - timedelta(days=1)
    recent = session.scalar(
        select(func.count()).select_from(Binding).where(Binding.openid == openid, Binding.created_at >= since)
    )
    if recent >= MAX_REQUESTS_PER_DAY:
        raise RateLimited("今天的绑定申请次数太多了，请明天再试或联系物业", code="binding_rate_limited")
    household = find_household(session, building=building, unit=unit, room=room, community_id=community_id)
    if household is None:
        raise NotFound(f"没有找到{_address(building, unit, room)}，请核对房号", code="household_not_found")
    resident = session.scalar(
        select(Resident).where(
            Resident.household_id == household.id,
            Resident.phone == normalise_phone(phone),
            Resident.status == "active",
        )
    )
    if resident is None:
        raise NotFound("这个房号下没有登记该手机号，请核对，或到物业登记后再绑定", code="resident_not_found")
    if session.scalar(select(column).where(Resident.id == resident.id)) not in (None, openid):
        raise Conflict("该住户已绑定了其他微信，如需更换请联系物业", code="resident_taken")
    for old in session.scalars(select(Binding).where(Binding.openid == openid, Binding.status == "pending")):
        old.status = "expired"
    binding = Binding(
        channel=channel, openid=openid, resident_id=resident.id, status="pending",
        code=f"{secrets.randbelow(10**6):06d}", expires_at=utcnow() + BINDING_TTL,
    )
    session.add(binding)
    session.flush()
    return binding


def _complete(session: Session, binding: Binding) -> Resident:
    resident = binding.resident
    if binding.channel == "oa":
        resident.oa_openid = binding.openid
    else:
        resident.wxa_openid = binding.openid
    binding.status = "confirmed"
    remember_resident(session, binding.channel, binding.openid, resident)  # whoever asks next in this request
    for hook in _on_bound.values():
        hook(session, binding.channel, binding.openid, resident)
    session.flush()
    return resident


def _pending_for(session: Session, channel: str, openid: str) -> Binding | None:
    """The open binding, locked until commit and read as committed (another attempt may have just counted)."""
    return session.scalar(
        select(Binding)
        .where(Binding.channel == channel, Binding.openid == openid, Binding.status == "pending",
               Binding.expires_at > utcnow())
        .order_by(Binding.id.desc()).limit(1)
        .with_for_update().execution_options(populate_existing=True)
    )


def confirm_binding(session: Session, *, channel: str, openid: str, code: str) -> Resident:
    """Confirm the open binding with the 6-digit code staff gave the resident.

    Attempts are counted on the locked binding row: parallel tries wait their turn and each sees the
    count the previous one committed, so at most MAX_CODE_ATTEMPTS codes are ever compared. The caller
    commits a refused try too (the count must add up)."""
    binding = _pending_for(session, channel, openid)
    if binding is None:
        raise NotFound("没有待确认的绑定申请，请先发送房号和手机号", code="no_pending_binding")
    binding.attempts += 1
    if binding.attempts > MAX_CODE_ATTEMPTS:
        binding.status = "expired"
        session.flush()
        raise RateLimited("验证码错误次数太多，请重新申请绑定", code="binding_locked")
    if not secrets.compare_digest((code or "").strip(), binding.code or ""):
        session.flush()
        left = MAX_CODE_ATTEMPTS - binding.attempts
        raise ValidationFailed(f"验证码不正确，还可以再试{left}次", code="bad_binding_code")
    return _complete(session, binding)


def _building_of(binding: Binding) -> Building:
    return binding.resident.household.unit.building


def _check_scope(staff: Staff, binding: Binding) -> None:
    building = _building_of(binding)
    if building.community_id != staff.community_id or not staff.covers_building(building.number):
        raise Forbidden("这条绑定申请不在您负责的范围内", code="out_of_scope")


def _pending_by_id(session: Session, binding_id: int) -> Binding:
    binding = session.get(Binding, binding_id)
    if binding is None:
        raise NotFound("没有这条绑定申请", code="binding_not_found")
    if binding.status != "pending" or binding.expires_at <= utcnow():
        raise Conflict("这条绑定申请已处理或已过期", code="binding_not_pending")
    return binding


def approve_binding(session: Session, binding_id: int, staff: Staff) -> Resident:
    """Staff confirm a pending binding; the resident is told in WeChat."""
    binding = _pending_by_id(session, binding_id)
    _check_scope(staff, binding)
    resident = _complete(session, binding)
    if binding.channel == "oa":
        enqueue(session, "app.chat.jobs.send_text", binding.openid,
                f"{resident.name}您好，物业已确认您的房屋绑定（{resident.household.label}），现在可以报修、预约和查询了。")
    return resident


def reject_binding(session: Session, binding_id: int, staff: Staff, reason: str) -> Binding:
    """Staff refuse a pending binding, with a reason the resident is told."""
    binding = _pending_by_id(session, binding_id)
    _check_scope(staff, binding)
    binding.status = "rejected"
    if binding.channel == "oa":
        enqueue(session, "app.chat.jobs.send_text", binding.openid,
                f"您的房屋绑定申请未通过：{reason or '信息核对不一致'}。如有疑问请联系物业。")
    session.flush()
    return binding


def pending_bindings(session: Session, staff: Staff) -> list[Binding]:
    """Open binding requests in this staff member's community and buildings, oldest first."""
    query = (
        select(Binding)
        .join(Resident, Binding.resident_id == Resident.id)
        .join(Household, Resident.household_id == Household.id)
        .join(Unit, Household.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Binding.status == "pending", Binding.expires_at > utcnow(),
               Building.community_id == staff.community_id)
        .order_by(Binding.id)
    )
    if staff.building_scope:
        query = query.where(Building.number.in_(staff.building_scope))
    return list(session.scalars(query))


def bind_verified_phone(
    session: Session, *, channel: str, openid: str, phone: str,
    building: str | None = None, unit: str | None = None, room: str | None = None,
) -> Resident:
    """Bind at once when WeChat verified the phone and it names exactly one roster resident."""
    column = _openid_column(channel)
    query = select(Resident).where(Resident.phone == normalise_phone(phone), Resident.status == "active")
    if building and room:
        household = find_household(session, building=building, unit=unit, room=room)
        if household is None:
            raise NotFound(f"没有找到{_address(building, unit, room)}，请核对房号", code="household_not_found")
        query = query.where(Resident.household_id == household.id)
    matches = session.scalars(query.limit(3)).all()
    if not matches:
        raise NotFound("登记名单中没有这个手机号，请联系物业登记", code="resident_not_found")
    if len(matches) > 1:
        raise ValidationFailed("这个手机号登记了多个房屋，请同时填写房号", code="room_required")
    resident = matches[0]
    current = session.scalar(select(column).where(Resident.id == resident.id))
    if current not in (None, openid):
        raise Conflict("该住户已绑定了其他微信，如需更换请联系物业", code="resident_taken")
    other = resident_for_openid(session, channel, openid)
    if other is not None and other.id != resident.id:
        raise Conflict("您已经绑定过房屋了，如需更换请联系物业", code="already_bound")
    setattr(resident, column.key, openid)
    remember_resident(session, channel, openid, resident)
    session.flush()
    return resident


def token_version_holds(session: Session, openid: str, version: int) -> bool:
    """Whether a mini-program token of this version is still good for openid (not revoked since).

    The same statement brings the resident bound to openid with their address (remembered for
    resident_for_openid): an API request reads who is asking once."""
    anchor = select(literal(1).label("one")).subquery()
    current, resident = session.execute(
        select(MiniProgramSession.token_version, Resident).select_from(anchor)
        .outerjoin(MiniProgramSession, MiniProgramSession.openid == openid)
        .outerjoin(Resident, and_(Resident.wxa_openid == openid, Resident.status == "active"))
        .options(with_address())).one()
    remember_resident(session, "wxa", openid, resident)
    return current is None or version >= current


def revoke_tokens(session: Session, resident: Resident) -> bool:
    """End every mini-program sign-in of the resident (lost phone, moved out); False when they have none."""
    if not resident.wxa_openid:
        return False
    row = session.scalar(select(MiniProgramSession).where(MiniProgramSession.openid == resident.wxa_openid))
    if row is None:
        return False
    row.token_version = (row.token_version or 1) + 1
    session.flush()
    return True
