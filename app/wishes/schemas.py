"""What the mini-program sends to the wish routes: request bodies and query strings as pydantic models.

They validate the request (miniprogram_api.validation's policy) and are the OpenAPI document's
request schemas, so what is declared is what is enforced.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from app.wishes import withdraw as withdrawal
from app.wishes.models import STATUSES
from app.wishes.wishes import MAX_TEXT
from miniprogram_api.validation import (
    REQUIRED_TEXT_PATTERN,
    Body,
    ErrorCode,
    Id,
    Int,
    Query,
    QueryInt,
    RequiredText,
    Text,
    refuse,
)

Building = Text(20) | Int(0, 99999)
_REASONS = tuple(withdrawal.REASONS)


class WishCreate(Body):
    """A wish from the catalogue (item_id) or in words (title), or both."""

    model_config = ConfigDict(json_schema_extra={
        "description": "title 和 item_id 至少填一个；都没有时 422 missing_field（details.fields）。",
        "anyOf": [{"properties": {"title": {"type": "string", "pattern": REQUIRED_TEXT_PATTERN}},
                   "required": ["title"]},
                  {"required": ["item_id"]}]})

    title: Text(100) = Field("", title="心愿", examples=["自助打印机"])
    item_id: Id = Field(None, title="设施目录项", description="从目录选择时填")
    description: Text(MAX_TEXT) = Field("", title="说明")
    building: Building = Field(None, title="只针对某幢楼")
    force: bool = Field(False, title="仍然新建",
                        description="已有相似心愿时默认返回 409 similar_wishes；确认要新建时传 true")

    @model_validator(mode="after")
    def _something(self) -> WishCreate:
        if not self.title and self.item_id is None:
            raise refuse("missing_field", "请选择目录中的设施，或写下您的心愿", fields=["title", "item_id"])
        return self


class FacilityRate(Body):
    """Stars for a built facility, with words."""

    stars: Int(1, 5) = Field(title="星级")
    text: Text(500) = Field("", title="评价")


class WishWithdraw(Body):
    """The author's reason for taking the wish back."""

    reason: Annotated[Literal[_REASONS], ErrorCode.of(  # missing or not one of them: 422 bad_reason
        "bad_reason", "请选择撤回原因：" + "、".join(withdrawal.REASONS.values()), reasons=list(_REASONS))] = Field(
        title="撤回原因", description="duplicated 已有相同心愿，started 已在建设，unfeasible 不可行，done 已解决；"
                                      "缺少或不在其中时 422 bad_reason（details.reasons）")
    note: Text(withdrawal.MAX_NOTE) = Field("", title="补充说明")


class WishComment(Body):
    """A comment on a wish."""

    text: RequiredText(1000) = Field(title="留言")


class WishListQuery(Query):
    """Which of the community's wishes, in which order."""

    status: Annotated[Literal[("open", *STATUSES)], ErrorCode.of("bad_status", "没有这种状态")] = Field(
        None, title="状态", description="open：征集、审议、已采纳和建设中的；或其中一种状态")
    building: Text(20) = Field(None, title="楼号")
    sort: Literal["new", "top"] = Field("new", title="排序", description="new 最新，top 支持最多")


class WishRankingsQuery(Query):
    """Count supports of the whole community, or of one building's residents."""

    building: Text(20) = Field(None, title="楼号")


class WishSimilarQuery(Query):
    """Look for open wishes like the one about to be made."""

    title: Text(100) = Field("", title="心愿")
    item_id: QueryInt() = Field(None, title="设施目录项")
