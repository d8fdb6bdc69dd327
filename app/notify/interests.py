"""Interest tags residents choose in the mini-program, and subscribe grants they give there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.community.models import Resident, Tag, resident_tag
from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.notify.models import SubscribeGrant

MAX_GRANT = 100  # WeChat lets a user accept one template many times; keep the count sane


def interest_catalogue(session: Session, resident: Resident) -> list[dict]:
    """The community's interest tags, each with whether this resident chose it."""
    chosen = set(session.scalars(select(resident_tag.c.tag_id).where(resident_tag.c.resident_id == resident.id)))
    tags = session.scalars(select(Tag).where(Tag.community_id == resident.community_id, Tag.kind == "interest")
                           .order_by(Tag.name))
    return [{"name": t.name, "description": t.description, "chosen": t.id in chosen} for t in tags]


def choose_interests(session: Session, resident: Resident, names: Sequence[str]) -> list[str]:
    """Replace the resident's interest tags with `names` (each must be in the catalogue)."""
    wanted = {n.strip() for n in names if n and n.strip()}
    catalogue = {t.name: t.id for t in session.scalars(
        select(Tag).where(Tag.community_id == resident.community_id, Tag.kind == "interest"))}
    unknown = sorted(wanted - set(catalogue))
    if unknown:
        raise ValidationFailed(f"没有这个兴趣标签：{unknown[0]}", code="unknown_interest", details={"unknown": unknown})
    session.execute(delete(resident_tag).where(resident_tag.c.resident_id == resident.id,
                                               resident_tag.c.tag_id.in_(list(catalogue.values()) or [-1])))
    if wanted:
        session.execute(insert(resident_tag), [{"resident_id": resident.id, "tag_id": catalogue[n]} for n in wanted])
    session.expire(resident, ["tags"])
    session.flush()
    return sorted(wanted)


def record_grants(session: Session, resident_id: int, results: Mapping[str, str]) -> dict[str, int]:
    """Count each "accept" of wx.requestSubscribeMessage as one more send of that template."""
    accepted = [tid for tid, answer in results.items() if answer == "accept"]
    for tid in accepted:
        if not tid or len(tid) > 64:
            raise ValidationFailed("模板编号不正确", code="invalid_template_id")
        taken = session.execute(
            update(SubscribeGrant).where(SubscribeGrant.resident_id == resident_id, SubscribeGrant.template_id == tid)
            .values(remaining=SubscribeGrant.remaining + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            session.add(SubscribeGrant(resident_id=resident_id, template_id=tid, remaining=1))
        session.flush()
        session.execute(update(SubscribeGrant).where(SubscribeGrant.resident_id == resident_id,
                                                     SubscribeGrant.remaining > MAX_GRANT)
                        .values(remaining=MAX_GRANT).execution_options(synchronize_session=False))
    return grants_of(session, resident_id)


def grants_of(session: Session, resident_id: int) -> dict[str, int]:
    """The resident's remaining sends per subscribe template."""
    return dict(session.execute(select(SubscribeGrant.template_id, SubscribeGrant.remaining)
                                .where(SubscribeGrant.resident_id == resident_id)).all())
