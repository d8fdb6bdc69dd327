"""Common questions (常见问题): one community's answers to what residents ask again and again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.db import db

MAX_QUESTION = 100
MAX_ANSWER = 1000
MAX_SYNONYM = 50
MAX_SYNONYMS = 30
MAX_CATEGORY = 30


class FaqEntry(db.Model):
    """A question residents ask, the other ways they ask it (synonyms) and the staff's answer."""

    __tablename__ = "faq_entry"
    __table_args__ = (
        UniqueConstraint("community_id", "question"),
        Index("ix_faq_entry_community_active", "community_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    question: Mapped[str] = mapped_column(String(MAX_QUESTION))
    answer: Mapped[str] = mapped_column(Text)
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)  # other words residents use for it
    category: Mapped[str | None] = mapped_column(String(MAX_CATEGORY))  # 物业服务, 缴费, 医疗 ...
    active: Mapped[bool] = mapped_column(default=True)  # inactive: kept, never answered or listed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    updated_by: Mapped[Staff | None] = relationship()

    @property
    def phrases(self) -> list[str]:
        """The question and every synonym: what a message is matched against."""
        return [self.question, *(self.synonyms or [])]
