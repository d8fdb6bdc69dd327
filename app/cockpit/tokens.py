"""Display tokens: a wall screen reads one community's (or street's) figures with a key staff make and revoke.

The key is 32 random bytes (URL-safe); only its SHA-256 is stored, so it is shown once, when made."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cockpit.models import DisplayToken, StreetAdmin
from app.community.models import Staff
from app.core.errors import Forbidden, NotFound, ValidationFailed

MAX_LABEL = 60
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is written at most this often (a screen reads every 30 s)


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create(session: Session, staff: Staff, label: str, *, street: bool = False,
           token: str | None = None) -> tuple[DisplayToken, str]:
    """Make a display token for the staff member's community (or, for a street admin, their street)."""
    label = (label or "").strip()[:MAX_LABEL]
    if not label:
        raise ValidationFailed("请填写大屏的名称，如“物业大厅大屏”", code="label_required")
    street_id = None
    if street:
        admin = session.scalar(select(StreetAdmin).where(StreetAdmin.staff_id == staff.id))
        if admin is None:
            raise Forbidden("只有街道管理员可以创建街道大屏", code="not_street_admin")
        street_id = admin.street_id
    token = token or secrets.token_urlsafe(32)
    row = DisplayToken(community_id=staff.community_id, street_id=street_id, label=label,
                       token_hash=token_hash(token), created_by_id=staff.id)
    session.add(row)
    session.flush()
    return row, token


def revoke(session: Session, staff: Staff, token_id: int, now: datetime) -> DisplayToken:
    """Stop a token at once: its page, data and stream answer 403 from the next request on."""
    row = session.get(DisplayToken, token_id)
    if row is None or row.community_id != staff.community_id:
        raise NotFound("没有找到这个大屏链接", code="display_token_not_found")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_id = now, staff.id
        session.flush()
    return row


def listed(session: Session, community_id: int) -> list[DisplayToken]:
    """A community's display tokens, newest first (revoked ones too, marked)."""
    return list(session.scalars(select(DisplayToken).where(DisplayToken.community_id == community_id)
                                .order_by(DisplayToken.id.desc())))


def find(session: Session, token: str) -> DisplayToken | None:
    """The active token with this value, or None (unknown, malformed or revoked)."""
    if not token or len(token) > 128:
        return None
    row = session.scalar(select(DisplayToken).where(DisplayToken.token_hash == token_hash(token)))
    return row if row is not None and row.active else None


def touch(row: DisplayToken, now: datetime) -> None:
    """Note that a screen used the token (at most every few minutes, so reads stay reads)."""
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
