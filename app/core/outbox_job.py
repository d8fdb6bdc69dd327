"""Jobs written in the request's transaction and relayed to RQ after commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import db


class OutboxJob(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(200))  # dotted name, e.g. "app.chat.jobs.send_text"
    args: Mapped[list] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(20), default="default")
    retry: Mapped[dict | None] = mapped_column(JSON)  # {"max": 3, "interval": [10, 30, 60]} for RQ
    run_at: Mapped[datetime | None]  # None = as soon as possible
    # pending | relaying | enqueued | failed
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None]
