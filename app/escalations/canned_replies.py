"""Canned replies: ready answers staff insert with one tap; admins keep the community's list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Community, Staff
from app.core.errors import NotFound, ValidationFailed
from app.escalations.models import CannedReply

MAX_BODY = 1000


def canned_replies(session: Session, staff: Staff) -> list[CannedReply]:
    """Canned replies of the staff member's community and the shared ones."""
    return list(session.scalars(select(CannedReply).where(
        (CannedReply.community_id == staff.community_id) | CannedReply.community_id.is_(None))
        .order_by(CannedReply.id)))


def add_canned_reply(session: Session, staff: Staff, title: str, body: str) -> CannedReply:
    """A new canned reply for the staff member's community."""
    title, body = (title or "").strip(), (body or "").strip()
    if not title or len(title) > 50 or not body or len(body) > MAX_BODY:
        raise ValidationFailed("标题（50 字内）和内容（1000 字内）都要填写", code="bad_canned_reply")
    canned = CannedReply(community_id=staff.community_id, title=title, body=body)
    session.add(canned)
    session.flush()
    return canned


def delete_canned_reply(session: Session, staff: Staff, canned_id: int) -> None:
    """Remove a canned reply of the staff member's community (shared ones and others' stay)."""
    canned = session.get(CannedReply, canned_id)
    if canned is None or canned.community_id != staff.community_id:
        raise NotFound("没有找到这条常用回复", code="canned_reply_not_found")
    session.delete(canned)
    session.flush()


DEMO_CANNED = (
    ("已收到", "您好，您的问题我们已经收到，正在为您处理，请稍候。"),
    ("上门时间", "维修师傅今天下午两点到五点之间上门，请家里留人，谢谢配合。"),
    ("停水通知", "今天小区管道维修临时停水，预计17点前恢复供水，给您带来不便敬请谅解。"),
    ("物业电话", "如有急事可直接拨打物业服务中心电话，24小时有人值班。"),
)


def seed_canned_replies(session: Session, community: Community) -> None:
    """Demo seed step: a few canned replies for the community (only the missing ones)."""
    have = set(session.scalars(select(CannedReply.title).where(CannedReply.community_id == community.id)))
    session.add_all(CannedReply(community_id=community.id, title=title, body=body)
                    for title, body in DEMO_CANNED if title not in have)
    session.flush()
