"""Wishes in the mini-program: the facility catalogue with ratings, wishes, supports, comments, follow, rankings."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, jsonify

from app.binding.me_api import current_resident
from app.core.db import db
from app.core.errors import Conflict, NotFound
from app.core.uploads import send_photo
from app.wishes import catalogue as wish_catalogue
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes import withdraw as withdrawal  # the view wish_withdraw (a support) has the short name
from app.wishes.models import STATUSES, FacilityItem, Wish
from app.wishes.schemas import (
    FacilityRate,
    WishComment,
    WishCreate,
    WishListQuery,
    WishRankingsQuery,
    WishSimilarQuery,
    WishWithdraw,
)
from app.wishes.wishes import STATUS_LABELS
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref

CHANNEL = "wxa"
_WISH = "/wishes/<id:wish_id>"
_ITEM = "/wishes/catalogue/<id:item_id>"
ERRORS = {s: ERROR_RESPONSES[s] for s in (403, 404, 409)}

COMPONENTS["FacilityItem"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "name": {"type": "string", "example": "自助打印机"},
        "aliases": {"type": "array", "items": {"type": "string"}}, "description": {"type": "string"},
        "typical_space": {"type": "string"}, "typical_cost": {"type": "string"},
        "serves": {"type": "string", "description": "服务人群"},
        "photos": {"type": "array", "items": {"type": "string"}},
        "built": {"type": "boolean", "description": "已建成，可以评价"},
        "rating": {"type": "number", "nullable": True, "description": "平均星级"},
        "rating_count": {"type": "integer"},
    },
}
COMPONENTS["WishSummary"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"},
        "item_id": {"type": "integer", "nullable": True}, "building": {"type": "string", "nullable": True},
        "status": {"type": "string", "enum": list(STATUSES)}, "status_label": {"type": "string"},
        "reason_label": {"type": "string", "description": "未采纳、合并或撤回的原因，如 不可行：位置不够"},
        "supports": {"type": "integer"}, "threshold": {"type": "integer"}, "progress": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
COMPONENTS["Wish"] = {
    "allOf": [ref("WishSummary"), {"type": "object", "properties": {
        "description": {"type": "string"}, "reason": {"type": "string"},
        "merged_into": {"type": "integer", "nullable": True},
        "item": {"nullable": True, "allOf": [ref("FacilityItem")]},
        "supported": {"type": "boolean"}, "following": {"type": "boolean"}, "mine": {"type": "boolean"},
        "can_unsupport": {"type": "boolean", "description": "可以撤回自己的支持"},
        "can_withdraw": {"type": "boolean", "description": "提出者可以撤回这个心愿"},
        "milestones": {"type": "array", "items": {"type": "object", "properties": {
            "percentage": {"type": "integer"}, "note": {"type": "string"},
            "photos": {"type": "array", "items": {"type": "string"}}, "at": {"type": "string"}}}},
        "comments": {"type": "array", "items": {"type": "object", "properties": {
            "author": {"type": "string"}, "text": {"type": "string"}, "at": {"type": "string"}}}},
        "timeline": {"type": "array", "items": {"type": "object"}},
    }}],
}
WISH_OK = {200: {"description": "成功", **ref("Wish")}}
LIST_OK = {200: {"description": "成功", "type": "object", "properties": {
    "wishes": {"type": "array", "items": ref("WishSummary")}}}, 403: ERROR_RESPONSES[403]}


def item_json(item: FacilityItem, rating: wish_catalogue.ItemRating | None = None) -> dict:
    """A catalogue item with its average rating."""
    return {"id": item.id, "name": item.name, "aliases": list(item.aliases or []), "description": item.description,
            "typical_space": item.typical_space, "typical_cost": item.typical_cost, "serves": item.serves,
            "photos": list(item.photos or []), "built": item.built,
            "rating": rating.average if rating else None, "rating_count": rating.count if rating else 0}


def summary_json(wish: Wish) -> dict:
    """A wish in a list."""
    return {"id": wish.id, "title": wish.title, "item_id": wish.item_id, "building": wish.building,
            "status": wish.status, "status_label": STATUS_LABELS[wish.status],
            "reason_label": withdrawal.reason_label(wish), "supports": wish.supports_count,
            "threshold": wish.threshold, "progress": wish.progress, "created_at": wish.created_at.isoformat() + "Z"}


def wish_json(wish: Wish, resident) -> dict:
    """A wish with its milestones, comments and timeline, and what this resident may do."""
    session = db.session
    item = wishes.item_for(session, wish)
    supported = wishes.supported(session, wish.id, resident.id)
    return {
        **summary_json(wish), "description": wish.description, "reason": wish.reason,
        "merged_into": wish.merged_into_id,
        "item": item_json(item, wish_catalogue.ratings(session, [item.id]).get(item.id)) if item else None,
        "supported": supported, "following": wishes.is_following(session, wish.id, resident.id),
        "mine": wish.resident_id == resident.id,
        "can_unsupport": supported and wish.status == "collecting" and wish.supports_count < wish.threshold,
        "can_withdraw": withdrawal.can_withdraw(wish, resident),
        "milestones": [{"percentage": m.percentage, "note": m.note, "photos": list(m.photos or []),
                        "at": m.created_at.isoformat() + "Z"} for m in wish.milestones],
        "comments": [{"author": c.author_name, "text": c.text, "at": c.created_at.isoformat() + "Z"}
                     for c in wish.comments],
        "timeline": wishes.timeline(wish),
    }


def _wish(wish_id: int):
    resident = current_resident()
    return wishes.get_wish(db.session, wish_id, resident.community_id), resident


@api_route("/wishes/catalogue", summary="设施目录（含邻居评分）", tags=("wishes",),
           responses={200: {"description": "成功", "type": "object", "properties": {
               "items": {"type": "array", "items": ref("FacilityItem")}}}, 403: ERROR_RESPONSES[403]})
def wish_catalogue_list():
    """The community's facility menu with each item's average stars and how many rated it."""
    resident = current_resident()
    rows = wish_catalogue.items(db.session, resident.community_id)
    scores = wish_catalogue.ratings(db.session, [i.id for i in rows])
    out = {"items": [item_json(i, scores.get(i.id)) for i in rows]}
    return jsonify(out)


@api_route(_ITEM, summary="设施详情、评价和相关心愿", tags=("wishes",),
           responses={200: {"description": "成功", "type": "object", "properties": {
               "item": ref("FacilityItem"), "reviews": {"type": "array", "items": {"type": "object"}},
               "my_rating": {"type": "object", "nullable": True},
               "wishes": {"type": "array", "items": ref("WishSummary")}}}, **ERRORS})
def wish_catalogue_item(item_id: int):
    """One menu item: details, neighbours' reviews, this resident's own rating, and open wishes for it."""
    resident = current_resident()
    item = wish_catalogue.get_item(db.session, item_id, resident.community_id)
    reviews = wish_catalogue.reviews(db.session, item.id)
    mine = next((r for r in reviews if r.resident_id == resident.id), None)
    related = wishes.similar_wishes(db.session, resident.community_id, title="", item_id=item.id, limit=10)
    return jsonify({
        "item": item_json(item, wish_catalogue.ratings(db.session, [item.id]).get(item.id)),
        "reviews": [{"stars": r.stars, "text": r.text, "author": r.resident.name[:1] + "邻居",
                     "at": r.updated_at.isoformat() + "Z"} for r in reviews],
        "my_rating": {"stars": mine.stars, "text": mine.text} if mine else None,
        "wishes": [summary_json(w) for w in related],
    })


@api_route(f"{_ITEM}/rating", methods=("POST",), summary="给建成的设施打分评价（可修改）", tags=("wishes",),
           body=FacilityRate, responses={200: {"description": "成功", **ref("FacilityItem")}, **ERRORS})
def wish_rate_item(item_id: int, body: FacilityRate):
    """Rate a built facility 1–5 stars with words; rating again edits the resident's earlier rating."""
    resident = current_resident()
    wish_catalogue.rate(db.session, item_id, resident, stars=body.stars, text=body.text)
    item = wish_catalogue.get_item(db.session, item_id, resident.community_id)
    out = item_json(item, wish_catalogue.ratings(db.session, [item.id]).get(item.id))
    return jsonify(out)


@api_route("/wishes", summary="小区的心愿", tags=("wishes",), query=WishListQuery, responses=LIST_OK)
def wish_list(query: WishListQuery):
    """The community's wishes (?status=open|<status>, ?building=3, ?sort=new|top)."""
    resident = current_resident()
    rows = wishes.list_wishes(db.session, resident.community_id, status=query.status,
                              building=query.building or None, sort=query.sort)
    return jsonify({"wishes": [summary_json(w) for w in rows]})


@api_route("/wishes/rankings", summary="邻居最想要的（全小区或某幢）", tags=("wishes",), query=WishRankingsQuery,
           responses={200: {"description": "成功", "type": "object", "properties": {
               "building": {"type": "string", "nullable": True}, "ranking": {"type": "array", "items": {
                   "allOf": [ref("WishSummary"), {"type": "object", "properties": {
                       "count": {"type": "integer", "description": "该范围内的支持人数"}}}]}}}},
               403: ERROR_RESPONSES[403]})
def wish_rankings(query: WishRankingsQuery):
    """Most-supported open wishes; ?building=3 counts only that building's residents' supports."""
    resident = current_resident()
    building = query.building or None
    rows = wishes.rankings(db.session, resident.community_id, building=building)
    return jsonify({"building": building, "ranking": [{**summary_json(w), "count": n} for w, n in rows]})


@api_route("/wishes/mine", summary="我提的、支持的、关注的心愿", tags=("wishes",), responses=LIST_OK)
def wish_mine():
    """Wishes this resident made, supports or follows, most recently changed first."""
    return jsonify({"wishes": [summary_json(w) for w in wishes.wishes_for_resident(db.session, current_resident())]})


@api_route("/wishes/similar", summary="相似的心愿（提交前查重）", tags=("wishes",), query=WishSimilarQuery,
           responses=LIST_OK)
def wish_similar(query: WishSimilarQuery):
    """Open wishes like this one (?title=打印机 and/or ?item_id=3), so the resident can support one instead."""
    resident = current_resident()
    rows = wishes.similar_wishes(db.session, resident.community_id, title=query.title, item_id=query.item_id)
    return jsonify({"wishes": [summary_json(w) for w in rows]})


@api_route("/wishes", methods=("POST",), summary="许一个心愿", tags=("wishes",), body=WishCreate,
           responses={201: {"description": "已提交", **ref("Wish")}, 403: ERROR_RESPONSES[403],
                      404: ERROR_RESPONSES[404],
                      409: {"description": "已有相似心愿（details.similar 列出它们）", **ref("Error")}})
def wish_create(body: WishCreate):
    """Make a wish from the catalogue (item_id) or in words (title); similar open wishes are offered first."""
    resident = current_resident()
    title = body.title
    item_id = body.item_id
    if item_id is None and title:
        matched = wish_catalogue.match_item(db.session, resident.community_id, title)
        item_id = matched.id if matched else None
    elif item_id is not None:
        wish_catalogue.get_item(db.session, item_id, resident.community_id)
    if not body.force:
        similar = wishes.similar_wishes(db.session, resident.community_id,
                                        title=title or wish_catalogue.get_item(db.session, item_id,
                                                                               resident.community_id).name,
                                        item_id=item_id)
        if similar:
            raise Conflict("邻居已经提过类似的心愿，可以直接支持它", code="similar_wishes",
                           details={"similar": [summary_json(w) for w in similar]})
    wish = wishes.create_wish(db.session, resident, title=title, item_id=item_id,
                              description=body.description, building=body.building,
                              source=CHANNEL)
    out = wish_json(wish, resident)
    return jsonify(out), 201


@api_route(_WISH, summary="心愿详情和进展", tags=("wishes",), responses={**WISH_OK, **ERRORS})
def wish_detail(wish_id: int):
    """One wish of the community with milestones, comments and the timeline."""
    wish, resident = _wish(wish_id)
    return jsonify(wish_json(wish, resident))


@api_route(f"{_WISH}/support", methods=("POST",), summary="支持这个心愿", tags=("wishes",),
           responses={**WISH_OK, **ERRORS})
def wish_support(wish_id: int):
    """Support a wish (once per resident; repeating does nothing); supporters follow it automatically."""
    wish, resident = _wish(wish_id)
    wishes.support(db.session, wish, resident)
    out = wish_json(wish, resident)
    return jsonify(out)


@api_route(f"{_WISH}/support", methods=("DELETE",), summary="撤回支持（达到门槛后不能撤回）", tags=("wishes",),
           responses={**WISH_OK, **ERRORS})
def wish_withdraw(wish_id: int):
    """Take a support back while the wish is collecting and below its threshold (409 threshold_reached after)."""
    wish, resident = _wish(wish_id)
    wishes.withdraw(db.session, wish, resident)
    out = wish_json(wish, resident)
    return jsonify(out)


@api_route(f"{_WISH}/withdraw", methods=("POST",), summary="提出者撤回心愿（征集或审议中，需选择原因）",
           tags=("wishes",), body=WishWithdraw, responses={**WISH_OK, **ERRORS})
def wish_withdraw_own(wish_id: int, body: WishWithdraw):
    """The author withdraws their wish with a reason (403 not_author, 409 cannot_withdraw once decided)."""
    resident = current_resident()
    wish = withdrawal.withdraw(db.session, wish_id, resident, body.reason, body.note)
    out = wish_json(wish, resident)
    return jsonify(out)


@api_route(f"{_WISH}/comments", methods=("POST",), summary="留言", tags=("wishes",),
           body=WishComment, responses={201: {"description": "成功", **ref("Wish")}, **ERRORS})
def wish_comment(wish_id: int, body: WishComment):
    """Add a comment to a wish (shown as 王邻居 to everyone in the community)."""
    wish, resident = _wish(wish_id)
    wishes.comment(db.session, wish, body.text, resident=resident)
    out = wish_json(wish, resident)
    return jsonify(out), 201


@api_route(f"{_WISH}/follow", methods=("POST",), summary="关注进展", tags=("wishes",),
           responses={**WISH_OK, **ERRORS})
def wish_follow(wish_id: int):
    """Be told of every step of a wish without supporting it."""
    wish, resident = _wish(wish_id)
    wishes.follow(db.session, wish, resident)
    out = wish_json(wish, resident)
    return jsonify(out)


@api_route(f"{_WISH}/follow", methods=("DELETE",), summary="取消关注", tags=("wishes",),
           responses={**WISH_OK, **ERRORS})
def wish_unfollow(wish_id: int):
    """Stop being told of a wish's steps."""
    wish, resident = _wish(wish_id)
    wishes.unfollow(db.session, wish, resident)
    out = wish_json(wish, resident)
    return jsonify(out)


@api_route("/wish-photos/<name>", summary="查看心愿进展照片", tags=("wishes",),
           responses={200: {"description": "图片"}, 404: ERROR_RESPONSES[404]})
def wish_photo_file(name: str):
    """A milestone photo, for residents of the wish's community."""
    resident = current_resident()
    path = Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads") / "wishes" / name
    owner = wish_review.milestone_with_photo(db.session, wish_review.PHOTO_PREFIX + name)
    if owner is None or "/" in name or not path.is_file():
        raise NotFound("没有这张图片", code="photo_not_found")
    wishes.get_wish(db.session, owner.wish_id, resident.community_id)
    return send_photo(path)
