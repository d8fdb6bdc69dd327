"""The replay guard's memory in the database, used while Redis cannot answer: a signed /wechat query
seen once is remembered with its body's hash until its signature could no longer be accepted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.chat.models import SeenNonce
from app.core.clock import utcnow
from app.core.db import conflict_insert, db

NEW, RETRY, REPLAY = "new", "retry", "replay"


def remember(key: str, digest: str, ttl_seconds: int) -> str:
    """Record a signed query; NEW the first time, RETRY for the same body again (WeChat's own
    retry), REPLAY for another body under the same signature. Commits in its own session."""
    now = utcnow()
    with Session(db.engine) as s:
        s.execute(delete(SeenNonce).where(SeenNonce.key == key, SeenNonce.expires_at < now))
        created = s.scalar(
            conflict_insert(s, SeenNonce)
            .values(key=key, body_digest=digest, expires_at=now + timedelta(seconds=ttl_seconds))
            .on_conflict_do_nothing(index_elements=["key"]).returning(SeenNonce.key)
        ) is not None
        seen = None if created else s.scalar(select(SeenNonce.body_digest).where(SeenNonce.key == key))
        s.commit()
    if created or seen is None:
        return NEW
    return RETRY if seen == digest else REPLAY


def forget_expired(session: Session) -> int:
    """Delete remembered queries past their time; returns how many."""
    return session.execute(delete(SeenNonce).where(SeenNonce.expires_at < utcnow())).rowcount or 0
