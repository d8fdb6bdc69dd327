"""Merchants in chat: 附近有修鞋的吗 -> the nearest matching merchants open now, with their hours; when none is
open now, when the nearest opens; a polite answer when there is none."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.dialog import Turn, register_answer
from app.community.models import Community, Resident
from app.core.clock import SHANGHAI
from app.merchants import directory
from app.merchants.models import Merchant

SHOWN = 3
NOT_BOUND = "请先发送“绑定”绑定房号，我就能告诉您小区附近的商户。"


def community_of(session: Session, resident: Resident | None) -> int | None:
    """The resident's community; for someone not bound yet, the only community when there is one."""
    if resident is not None:
        return resident.community_id
    ids = list(session.scalars(select(Community.id).limit(2)))
    return ids[0] if len(ids) == 1 else None


def _line(m: Merchant) -> str:
    phone = f"，电话{m.phone}" if m.phone else ""
    return f"{m.name}（{m.address}，出小区门步行约{m.walk_minutes}分钟），营业时间{directory.hours_label(m)}{phone}"


def answer_merchants(turn: Turn) -> str:
    """The nearest open merchants of the kind asked, or when the nearest one opens."""
    community_id = community_of(turn.session, turn.resident)
    if community_id is None:
        return NOT_BOUND
    phrase = dict(getattr(turn.parsed, "slots", None) or {}).get("shop")
    at = turn.now.astimezone(SHANGHAI)
    found = directory.find(turn.session, community_id, phrase)
    what = f"“{phrase}”" if phrase else "商户"
    if not found:
        return (f"抱歉，社区登记的周边商户里暂时没有{what}。可以换个说法再问，比如“附近有超市吗”；"
                "小程序“周边商户”里有全部商户和优惠券。")
    open_now = [m for m in found if directory.is_open(m, at)]
    if open_now:
        lines = [f"附近现在营业的{what}："] + [f"{i}. {_line(m)}" for i, m in enumerate(open_now[:SHOWN], 1)]
        lines.append("小程序“周边商户”里还可以领优惠券。")
        return "\n".join(lines)
    soonest = min(found, key=lambda m: (directory.next_opening(m, at) or at.replace(year=at.year + 1), m.walk_minutes))
    opening = directory.next_opening(soonest, at)
    when = f"，最早{directory.when_label(opening, at)}开门" if opening else ""
    return (f"附近的{what}现在都没有营业{when}：\n" +
            "\n".join(f"{i}. {_line(m)}" for i, m in enumerate(found[:SHOWN], 1)))


register_answer("merchant_query", answer_merchants)
