"""The community's named places (东门, 中心花园, 北门停车场): kept by staff, matched in residents' words.

A report's "where" must be a place: building/unit/room words, a shared area (楼道, 电梯), or one of these.
Matching takes the longest name or alias the message contains, so 北门停车场 wins over 北门.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Place
from app.core.errors import Conflict, NotFound, ValidationFailed

KINDS = {"gate": "出入口", "garden": "花园绿地", "parking": "停车场", "facility": "公共设施", "other": "其他"}
MAX_ALIASES = 10


def named(session: Session, community_id: int, *, active_only: bool = True) -> list[Place]:
    """The community's places, by name."""
    query = select(Place).where(Place.community_id == community_id)
    if active_only:
        query = query.where(Place.active.is_(True))
    return list(session.scalars(query.order_by(Place.name)))


def find(places: list[Place], text: str) -> Place | None:
    """The place whose name or alias the text contains (the longest such word wins), or None."""
    best, length = None, 0
    for place in places:
        for word in (place.name, *(place.aliases or [])):
            if word and len(word) > length and word in text:
                best, length = place, len(word)
    return best


def _aliases(raw: str | list[str]) -> list[str]:
    words = raw if isinstance(raw, list) else raw.replace("，", ",").replace("、", ",").split(",")
    cleaned = [w.strip()[:30] for w in words if w.strip()]
    return list(dict.fromkeys(cleaned))[:MAX_ALIASES]


def add_place(session: Session, community_id: int, *, name: str, aliases: str | list[str] = "",
              kind: str = "other", building: str | None = None) -> Place:
    """Record a named place (a name already used in the community is refused)."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 30:
        raise ValidationFailed("地点名称需要 2 到 30 个字", code="invalid_place_name")
    if kind not in KINDS:
        raise ValidationFailed("地点类型不正确", code="invalid_place_kind")
    if session.scalar(select(Place.id).where(Place.community_id == community_id, Place.name == name)) is not None:
        raise Conflict(f"已经有名为“{name}”的地点", code="place_exists")
    place = Place(community_id=community_id, name=name, aliases=[a for a in _aliases(aliases) if a != name],
                  kind=kind, building=(building or "").strip() or None)
    session.add(place)
    session.flush()
    return place


def set_active(session: Session, community_id: int, place_id: int, active: bool) -> Place:
    """Hide a place from matching, or show it again."""
    place = session.get(Place, place_id)
    if place is None or place.community_id != community_id:
        raise NotFound("没有找到这个地点", code="place_not_found")
    place.active = active
    session.flush()
    return place
