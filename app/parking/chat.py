"""Parking in chat: 30幢还有车位吗 (free fixed and temporary spaces and how fresh the count is; with no
building named, the resident's own building and the nearest buildings with space) and car notices by plate
(浙A12345挡住出口了请挪车) as a dialog flow."""

from __future__ import annotations

from datetime import datetime, timedelta

import redis
from sqlalchemy import select

from app.chat.conversations import set_dialog, to_naive_utc
from app.chat.dialog.clarify import register_clarifier
from app.chat.dialog.core import Flow, Slot, Turn, register, register_answer
from app.community.models import Community
from app.core.clock import to_local
from app.core.errors import AppError
from app.parking import car_notices, parking
from app.parking.parking import Availability

NOT_BOUND_NOTICE = "为了防止骚扰，发送挪车等车辆提醒需要先绑定房号。请发送“绑定”，按提示完成后再告诉我车牌号。"
ASK_PLATE = "请告诉我对方的车牌号，例如：浙A12345。"
NO_ZONES = "小区暂时还没有接入车位数据，请以现场情况为准。"


def _runtime(turn: Turn) -> tuple[redis.Redis | None, int]:
    """The app's Redis and PARKING_STALE_MINUTES, as the entry point handed them in."""
    return turn.env.redis, int(turn.env.settings.get("PARKING_STALE_MINUTES", parking.STALE_MINUTES))


def _community_id(turn: Turn) -> int | None:
    if turn.resident is not None:
        return turn.resident.community_id
    ids = list(turn.session.scalars(select(Community.id).limit(2)))
    return ids[0] if len(ids) == 1 else None


def describe(zone: Availability, now: datetime, stale_minutes: int) -> str:
    """One zone in words; a stale count is said to be stale and its numbers are not shown."""
    if zone.at is None:
        return f"{zone.name}：暂时没有车位数据，请以现场为准"
    if zone.stale:
        last = to_local(zone.at).strftime("%m月%d日 %H:%M")
        return (f"{zone.name}：车位数据已超过{stale_minutes}分钟没有更新（最后一次是{last}），"
                "暂时无法提供准确余位，请以现场为准")
    age = zone.age_minutes(now)
    fresh = "刚刚更新" if not age else f"{age}分钟前更新"
    return f"{zone.name}：固定车位余{zone.fixed_free}，临时车位余{zone.temporary_free}（{fresh}）"


def _nearby(found: list[Availability], position: int, exclude: str | None, now: datetime, stale: int) -> str:
    near = parking.nearest_with_space(found, position, exclude=exclude)
    lots = [a for a in found if a.building is None and a.has_space][:2]
    if near or lots:
        return "附近有空位的：\n" + "\n".join(describe(a, now, stale) for a in near + lots)
    others = [a for a in found if a.building != exclude]
    unknown = [a for a in others if a.stale or a.at is None]
    if others and len(unknown) == len(others):  # nothing current to go on: never say "no spaces"
        return "附近楼栋的车位数据暂时没有更新，无法确认是否有空位，请以现场为准。"
    if unknown:
        return (f"按最新数据，附近楼栋暂时没有空车位；另有{len(unknown)}处车位数据未及时更新，"
                "可能有空位，请以现场为准。")
    return "按最新数据，附近楼栋暂时都没有空车位。"


def named_zones(found: list[Availability], text: str) -> list[Availability]:
    """Shared lots the message names (北门停车场, or just 北门): a lot is answered for itself, not for the
    resident's building."""
    named = []
    for zone in found:
        if zone.building is not None:
            continue
        core = zone.name
        for suffix in ("停车场", "停车区", "停车位", "车场"):
            core = core.removesuffix(suffix)
        if zone.name in text or (len(core) >= 2 and core in text):
            named.append(zone)
    return named


def answer_parking(turn: Turn) -> str:
    """Free spaces for the building named, or for the resident's own building and the nearest with space."""
    community_id = _community_id(turn)
    if community_id is None:
        return "请先发送“绑定”绑定房号，我就能告诉您所在小区的车位情况。"
    conn, stale = _runtime(turn)
    now = to_naive_utc(turn.now)
    found = parking.availability(turn.session, conn, community_id, now=now, stale_minutes=stale)
    if not found:
        return NO_ZONES
    lots = named_zones(found, turn.text)
    if lots:
        lines = [describe(a, now, stale) for a in lots]
        if not any(a.has_space for a in lots):
            position = min(a.position for a in lots)
            lines.append(_nearby(found, position, None, now, stale))
        return "\n".join(lines)
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    building = slots.get("building")
    if building:
        mine = parking.for_building(found, building)
        position = parking.building_position(turn.session, community_id, building)
        if not mine:
            head = f"{building}幢没有登记停车区域。"
            return head + ("\n" + _nearby(found, position, building, now, stale) if position is not None else "")
        lines = [describe(a, now, stale) for a in mine]
        if not any(a.has_space for a in mine) and position is not None:
            lines.append(_nearby(found, position, building, now, stale))
        return "\n".join(lines)
    household = turn.resident.household if turn.resident is not None else None
    if household is None:
        with_space = [a for a in found if a.has_space][:5]
        if not with_space:
            return "目前各楼栋都没有可用的空车位数据。\n" + "\n".join(describe(a, now, stale) for a in found[:5])
        return "目前有空位的：\n" + "\n".join(describe(a, now, stale) for a in with_space)
    own = household.unit.building
    lines = [describe(a, now, stale) for a in parking.for_building(found, own.number)] or \
        [f"{own.number}幢没有登记停车区域。"]
    lines.append(_nearby(found, own.position, own.number, now, stale))
    return "\n".join(lines)


# ---- car notices -------------------------------------------------------------------------------

def _guard(turn: Turn) -> str | None:
    return NOT_BOUND_NOTICE if turn.resident is None else None


def _begin(turn: Turn) -> dict:
    slots = dict(getattr(turn.parsed, "slots", None) or {})
    plate = car_notices.normalise_plate(slots.get("plate") or "") or car_notices.normalise_plate(turn.text)
    return {"plate": plate, "kind": car_notices.kind_from_text(turn.text), "text": turn.text}


def _extract_plate(turn: Turn) -> str | None:
    return car_notices.normalise_plate(turn.text)


def _confirm(turn: Turn) -> str:
    return f"给车牌{turn.slots['plate']}的车主发送{car_notices.KIND_LABELS[turn.slots['kind']]}提醒。"


def _complete(turn: Turn) -> str:
    conn, _stale = _runtime(turn)
    slots = turn.slots
    try:
        notice = car_notices.send_notice(
            turn.session, conn, community_id=turn.resident.community_id, plate=slots["plate"], kind=slots["kind"],
            text=slots.get("text") or "", resident=turn.resident, source=turn.channel, now=to_naive_utc(turn.now))
    except AppError as err:
        return err.message
    set_dialog(turn.conversation, last_notice={"plate": notice.plate, "at": turn.now.isoformat()})
    return car_notices.sender_reply(notice)


NOTICE_SETTLED = ("开走了", "挪走了", "挪开了", "已经走了", "车走了", "不用挪了", "不用了", "没事了", "算了", "解决了")
SETTLED_REPLY = "好的，不需要挪车了。已经发给车主的提醒不会再重复发送；以后有需要随时找我。"
SETTLED_WINDOW = timedelta(hours=2)


def notice_settled(session, conversation, resident, text: str, now, weak: bool) -> str | None:
    """A fallback: 算了他已经开走了 soon after a car notice is a thank-you, not a message the bot failed to read."""
    last = (conversation.dialog or {}).get("last_notice")
    if not last or not any(word in text for word in NOTICE_SETTLED):
        return None
    try:
        sent_at = datetime.fromisoformat(last["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if sent_at.tzinfo is None or now.tzinfo is None:
        sent_at, now = sent_at.replace(tzinfo=None), now.replace(tzinfo=None)
    if now - sent_at > SETTLED_WINDOW:
        return None
    set_dialog(conversation, last_notice=None)
    return SETTLED_REPLY


def clarify_notice(parsed, text: str, resident, now) -> str | None:
    """浙A8K3D2挡我车了 read without confidence: a plate and words asking something of its owner make the
    question "您是想提醒车牌浙A8K3D2的车主挪车吗？"."""
    plate = car_notices.normalise_plate(dict(getattr(parsed, "slots", None) or {}).get("plate") or text)
    kind = car_notices.kind_from_text(text)
    if plate is None or kind == "text":
        return None
    return f"您是想提醒车牌{plate}的车主{car_notices.KIND_LABELS[kind]}吗？"


register_clarifier("car_notice", clarify_notice)
register_answer("parking_query", answer_parking)
register(Flow(
    name="car_notice", intents=("car_notice",), label="挪车提醒",
    slots=(Slot("plate", ASK_PLATE, _extract_plate),),
    begin=_begin, confirm=_confirm, complete=_complete, guard=_guard,
    skip_confirm=lambda turn: True,
))
