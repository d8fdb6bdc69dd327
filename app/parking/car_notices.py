"""Vehicles registered to households, and car notices: a message to a plate's owner (挪车, 车灯未关, 车窗未关,
free text) that never shows either side who the other is; rate-limited per sender and per plate; an unknown
or disputed plate (claimed by two households, see disputes) goes to staff; the owner answers 已处理 and the
sender is told."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chat.conversations import to_naive_utc
from app.community.models import Resident, Staff
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from app.notify.notify import notify
from app.parking import disputes
from app.parking.models import NOTICE_KINDS, CarNotice, Vehicle

log = logging.getLogger(__name__)

KIND_LABELS = {"move": "挪车", "lights": "车灯未关", "window": "车窗未关", "text": "留言"}
TEMPLATES = {
    "move": "【挪车提醒】您登记的车辆{plate}挡住了其他车辆，请尽快挪车。",
    "lights": "【车辆提醒】您登记的车辆{plate}车灯没有关，请尽快处理。",
    "window": "【车辆提醒】您登记的车辆{plate}车窗没有关，请注意关好车窗。",
    "text": "【车辆提醒】关于您登记的车辆{plate}，有人留言：{text}",
}
OWNER_FOOTER = "\n（发送人信息已隐藏。处理好后回复“已处理”，我们会告诉对方。）"
DONE_WORDS = frozenset({"已处理", "处理了", "处理好了", "已经处理", "已经处理了", "已挪车", "挪好了", "已挪",
                        "已经挪了", "已关", "关好了", "已关好", "已处理好"})
SENDER_LIMIT = (5, 3600)  # notices a resident may send per hour
STAFF_LIMIT = (30, 3600)
PLATE_LIMIT = (3, 900)  # notices one plate may receive per 15 minutes, from everyone
MAX_VEHICLES = 5  # per household
ANSWER_WINDOW = timedelta(hours=12)  # 已处理 refers to a notice at most this old
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"[{PROVINCES}][A-Z][A-Z0-9]{{5,6}}")
_PHONE = re.compile(r"1[3-9]\d{9}")


def normalise_plate(text: str | None) -> str | None:
    """The first plate in a text, upper case without spaces or dots (浙a·12345 -> 浙A12345), or None."""
    if not text:
        return None
    cleaned = re.sub(r"[\s·.\-•]", "", text).upper()
    found = _PLATE.search(cleaned)
    return found.group(0) if found else None


def kind_from_text(text: str) -> str:
    """Which template a message asks for: 挪车, 车灯, 车窗, or free text."""
    if any(w in text for w in ("灯",)):
        return "lights"
    if any(w in text for w in ("窗", "天窗")):
        return "window"
    if any(w in text for w in ("挪", "移车", "挡", "堵", "占了", "占用", "出不去", "开走")):
        return "move"
    if any(w in text.lower() for w in ("blocked", "blocking", "move your car", "move the car", "can't get out")):
        return "move"
    return "text"


def _hide_phones(text: str) -> str:
    return _PHONE.sub("***********", text)


# ---- vehicles ----------------------------------------------------------------------------------

def household_vehicles(session: Session, household_id: int) -> list[Vehicle]:
    """A household's registered cars."""
    return list(session.scalars(select(Vehicle).where(Vehicle.household_id == household_id).order_by(Vehicle.id)))


def register_vehicle(session: Session, resident: Resident, plate: str) -> Vehicle:
    """Claim a plate for the resident's household (the same plate twice is one claim). Another household's
    claim does not stop it and is not revealed: the plate becomes disputed and staff settle it."""
    if resident.household_id is None:
        raise ValidationFailed("请先绑定房号再登记车辆", code="not_bound")
    normal = normalise_plate(plate)
    if normal is None:
        raise ValidationFailed("车牌号格式不对，例如：浙A12345", code="invalid_plate", details={"field": "plate"})
    mine = household_vehicles(session, resident.household_id)
    for vehicle in mine:
        if vehicle.plate == normal:
            return vehicle
    if len(mine) >= MAX_VEHICLES:
        raise ValidationFailed(f"每户最多登记{MAX_VEHICLES}辆车", code="too_many_vehicles")
    vehicle = Vehicle(community_id=resident.community_id, household_id=resident.household_id,
                      resident_id=resident.id, plate=normal)
    session.add(vehicle)
    session.flush()
    disputes.claim_added(session, vehicle)
    return vehicle


def remove_vehicle(session: Session, resident: Resident, vehicle_id: int) -> None:
    """Remove one of the household's vehicles (another household's is not found)."""
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None or resident.household_id is None or vehicle.household_id != resident.household_id:
        raise NotFound("没有找到这辆车", code="vehicle_not_found")
    session.delete(vehicle)
    session.flush()


# ---- rate limits -------------------------------------------------------------------------------

def _over(conn: redis.Redis | None, key: str, limit: tuple[int, int]) -> bool | None:
    """Count one more in a fixed window; None when Redis cannot answer."""
    if conn is None:
        return None
    try:
        with conn.pipeline() as pipe:
            pipe.set(key, 0, ex=limit[1], nx=True)
            pipe.incr(key)
            count = pipe.execute()[1]
        return int(count) > limit[0]
    except redis.RedisError as exc:
        log.warning("car notice rate limit: Redis unavailable: %s", exc)
        return None


def _db_count(session: Session, *conditions, seconds: int, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(CarNotice)
                          .where(*conditions, CarNotice.created_at >= now - timedelta(seconds=seconds))) or 0


def _check_limits(session: Session, conn: redis.Redis | None, *, community_id: int, plate: str,
                  resident: Resident | None, staff: Staff | None, now: datetime) -> None:
    if staff is not None:
        who, limit, cond = f"s{staff.id}", STAFF_LIMIT, CarNotice.sender_staff_id == staff.id
    else:
        who, limit, cond = f"r{resident.id}", SENDER_LIMIT, CarNotice.sender_resident_id == resident.id
    sender_over = _over(conn, f"parking:notice:sender:{who}", limit)
    if sender_over is None:
        sender_over = _db_count(session, cond, seconds=limit[1], now=now) >= limit[0]
    if sender_over:
        raise RateLimited("您发送的车辆提醒太频繁了，请稍后再试", code="sender_rate_limited")
    plate_over = _over(conn, f"parking:notice:plate:{community_id}:{plate}", PLATE_LIMIT)
    if plate_over is None:
        plate_over = _db_count(session, CarNotice.community_id == community_id, CarNotice.plate == plate,
                               seconds=PLATE_LIMIT[1], now=now) >= PLATE_LIMIT[0]
    if plate_over:
        raise RateLimited("这辆车刚刚已经收到多条提醒，请稍后再试", code="plate_rate_limited")


# ---- notices -----------------------------------------------------------------------------------

def owner_text(notice: CarNotice) -> str:
    """What the owner reads: the template with the plate, never who sent it."""
    return TEMPLATES[notice.kind].format(plate=notice.plate, text=notice.text) + OWNER_FOOTER


def send_notice(session: Session, conn: redis.Redis | None, *, community_id: int, plate: str, kind: str,
                text: str = "", resident: Resident | None = None, staff: Staff | None = None,
                source: str = "oa", now: datetime | None = None) -> CarNotice:
    """Tell the owner of a plate (every resident of the household it is registered to); unknown and disputed
    plates wait for staff. Raises RateLimited, ValidationFailed."""
    now = now or utcnow()
    if (resident is None) == (staff is None):
        raise ValidationFailed("需要发送人", code="missing_sender")
    normal = normalise_plate(plate)
    if normal is None:
        raise ValidationFailed("车牌号格式不对，例如：浙A12345", code="invalid_plate", details={"field": "plate"})
    if kind not in NOTICE_KINDS:
        raise ValidationFailed("提醒类型不对", code="invalid_kind", details={"field": "kind"})
    text = _hide_phones((text or "").strip())[:200]
    if kind == "text" and not text:
        raise ValidationFailed("请填写留言内容", code="missing_field", details={"field": "text"})
    _check_limits(session, conn, community_id=community_id, plate=normal, resident=resident, staff=staff, now=now)
    found = disputes.claims(session, community_id, normal)
    vehicle = found[0] if len(found) == 1 else None  # a disputed plate reaches no claimant: staff relay it
    notice = CarNotice(community_id=community_id, plate=normal, kind=kind, text=text if kind == "text" else "",
                       sender_resident_id=resident.id if resident else None,
                       sender_staff_id=staff.id if staff else None, source=source, created_at=now,
                       vehicle_id=vehicle.id if vehicle else None,
                       household_id=vehicle.household_id if vehicle else None,
                       status="sent" if vehicle else "unmatched")
    session.add(notice)
    session.flush()
    if vehicle is not None:
        owners = session.scalars(select(Resident).where(Resident.household_id == vehicle.household_id,
                                                        Resident.status == "active"))
        for owner in owners:
            notify(session, owner.id, category="service", text=owner_text(notice), urgent=True, now=now)
    return notice


def sender_reply(notice: CarNotice) -> str:
    """What the sender is told right away (nothing about the owner but that they were told)."""
    label = KIND_LABELS[notice.kind]
    if notice.status == "unmatched":
        return f"暂时无法直接联系车牌{notice.plate}的车主，已把您的{label}提醒转给物业工作人员处理。"
    return (f"已把{label}提醒发给车牌{notice.plate}的车主（不会透露您的身份）。车主回复“已处理”后会告诉您。")


def _tell_sender(session: Session, notice: CarNotice, text: str, now: datetime) -> None:
    if notice.sender_resident_id is not None:
        notify(session, notice.sender_resident_id, category="service", text=text, now=now)


def notices_for_owner(session: Session, resident: Resident, now: datetime | None = None) -> list[CarNotice]:
    """Notices about the household's cars from the last 12 hours, newest first."""
    if resident.household_id is None:
        return []
    since = to_naive_utc(now) - ANSWER_WINDOW
    return list(session.scalars(select(CarNotice).where(CarNotice.household_id == resident.household_id,
                                                        CarNotice.created_at >= since)
                                .order_by(CarNotice.created_at.desc(), CarNotice.id.desc())))


def mark_handled(session: Session, resident: Resident, notice_id: int, now: datetime | None = None) -> CarNotice:
    """The owner says a notice about their car is dealt with (as 已处理 in chat); the sender is told."""
    notice = session.get(CarNotice, notice_id)
    if notice is None or resident.household_id is None or notice.household_id != resident.household_id:
        raise NotFound("没有找到这条提醒", code="notice_not_found")
    if notice.status != "sent":
        raise Conflict("这条提醒已处理", code="notice_closed")
    _handled(session, notice, to_naive_utc(now))
    return notice


def _handled(session: Session, notice: CarNotice, now: datetime) -> None:
    notice.status, notice.handled_at, notice.handled_note = "handled", now, "车主回复已处理"
    _tell_sender(session, notice, f"您提醒的车辆{notice.plate}，车主已回复：已处理。感谢您的提醒！", now)
    session.flush()


def owner_reply(session: Session, resident: Resident | None, text: str, now: datetime | None = None) -> str | None:
    """An owner's 已处理 for the newest open notice about their household's cars; None when it is not one."""
    if resident is None or resident.household_id is None or text not in DONE_WORDS:
        return None
    notice = session.scalar(select(CarNotice).where(CarNotice.household_id == resident.household_id,
                                                    CarNotice.status == "sent",
                                                    CarNotice.created_at >= to_naive_utc(now) - ANSWER_WINDOW)
                            .order_by(CarNotice.created_at.desc(), CarNotice.id.desc()).limit(1))
    if notice is None:
        return None
    _handled(session, notice, to_naive_utc(now))
    return f"好的，已告诉对方车辆{notice.plate}已处理，谢谢配合！"


def close_unmatched(session: Session, notice: CarNotice, staff: Staff, note: str = "",
                    now: datetime | None = None) -> CarNotice:
    """Staff dealt with a notice for an unknown or disputed plate; the sender is told."""
    if notice.status != "unmatched":
        raise Conflict("这条提醒已处理", code="notice_closed")
    now = now or utcnow()
    notice.status, notice.handled_at, notice.handled_note = "closed", now, (note or "物业已处理")[:200]
    _tell_sender(session, notice, f"您关于车辆{notice.plate}的提醒，物业工作人员已处理。", now)
    session.flush()
    return notice
