"""Common questions in the mini-program: the community's active entries, by category or closest to a question."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify
from pydantic import BaseModel, Field

from app.binding.me_api import current_resident
from app.core.db import db
from app.faq import faq, matching
from app.faq.models import FaqEntry
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import ERROR_RESPONSES
from miniprogram_api.validation import Query, Text


class FaqQuery(Query):
    """All active entries, one category's, or those close to a question (closest first)."""

    category: Text(30) = Field(None, title="分类", examples=["缴费"])
    q: Text(100) = Field(None, title="问题", examples=["物业费怎么交"],
                         description="只返回和这个问题足够接近的条目，最接近的在前")


class FaqItem(BaseModel):
    """One common question as a resident sees it."""

    id: int
    question: str = Field(examples=["物业电话是多少"])
    answer: str
    category: str | None = Field(description="分类；没有分类时为 null")
    updated_at: datetime = Field(description="最后修改时间（UTC）")

    @classmethod
    def of(cls, entry: FaqEntry) -> FaqItem:
        """The item for an entry."""
        return cls(id=entry.id, question=entry.question, answer=entry.answer, category=entry.category,
                   updated_at=entry.updated_at.replace(tzinfo=UTC))


FAQ_LIST = {"description": "小区的常见问题", "type": "object", "required": ["entries"], "properties": {
    "entries": {"type": "array", "items": FaqItem.model_json_schema()}}}


@api_route("/faq", summary="常见问题（物业电话、缴费、垃圾分类时间……）", tags=("faq",), query=FaqQuery,
           responses={200: FAQ_LIST, 403: ERROR_RESPONSES[403]})
def faq_entries(query: FaqQuery):
    """The active entries of the resident's community, by category and question; with q, the close ones."""
    resident = current_resident()
    rows = faq.entries(db.session, resident.community_id)
    if query.category:
        rows = [e for e in rows if e.category == query.category]
    if query.q:
        rows = [m.entry for m in matching.rank(query.q, rows) if m.score >= matching.THRESHOLD]
    return jsonify({"entries": [FaqItem.of(e).model_dump(mode="json") for e in rows]})
