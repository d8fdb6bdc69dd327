"""Wishes in the console (committee, admin): the review queue, a wish's page with its decisions and milestones,
the facility catalogue and thresholds, and the staff JSON API under /console/api/wishes."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from app.core.db import db, unit_of_work
from app.core.errors import AppError, NotFound, ValidationFailed
from app.core.uploads import save_photo, send_photo
from app.wishes import catalogue as wish_catalogue
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes import withdraw as wish_withdraw
from app.wishes.models import STATUSES, Wish, WishThreshold
from app.wishes.review import REVIEW_ROLES
from app.wishes.wishes import STATUS_LABELS
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

PHOTO_PREFIX = wish_review.PHOTO_PREFIX
TABS = (("under_review", "待审议"), ("collecting", "征集中"), ("accepted", "已采纳"), ("in_progress", "建设中"),
        ("completed", "已建成"), ("rejected", "未采纳"), ("merged", "已合并"),
        ("withdrawn", "已撤回"), ("all", "全部"))
ACTIONS = ("review", "accept", "reject", "merge", "milestone", "complete", "comment")
DONE = {"review": "已提交审议", "accept": "已采纳", "reject": "已记录不采纳", "merge": "已合并",
        "milestone": "已发布进展", "complete": "已标记建成", "comment": "已留言"}
_ID = "<int(max=2147483647):wish_id>"

add_nav("console.wishes_page", "心愿", REVIEW_ROLES)


def _value(name: str) -> str:
    if request.is_json:
        return str((request.get_json(silent=True) or {}).get(name) or "").strip()
    return (request.form.get(name) or "").strip()


def _int(name: str, message: str, code: str) -> int:
    raw = _value(name)
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed(message, code=code) from None


def photo_dir() -> Path:
    """Where milestone photos are kept."""
    return Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads") / "wishes"


def _photos() -> list[str]:
    uploads = [u for u in request.files.getlist("photos") if u and u.filename]
    return [PHOTO_PREFIX + save_photo(u, photo_dir(), "m") for u in uploads[:wish_review.MAX_PHOTOS]]


def _act(action: str, wish_id: int):
    staff, session = current_staff(), db.session
    if action == "review":
        return wish_review.start_review(session, wish_id, staff, note=_value("note"))
    if action == "accept":
        return wish_review.accept(session, wish_id, staff, note=_value("note"))
    if action == "reject":
        return wish_review.reject(session, wish_id, staff, _value("reason"))
    if action == "merge":
        into = _int("into", "请填写要合并到的心愿编号", "bad_target")
        return wish_review.merge(session, wish_id, staff, into, reason=_value("reason"))
    if action == "milestone":
        percentage = _int("percentage", "进度请填 0 到 100 之间的整数", "bad_percentage")
        return wish_review.milestone(session, wish_id, staff, percentage=percentage, note=_value("note"),
                                     photos=_photos())
    if action == "complete":
        return wish_review.complete(session, wish_id, staff, note=_value("note"))
    if action == "comment":
        wish = wishes.get_wish(session, wish_id, staff.community_id)
        return wishes.comment(session, wish, _value("text"), staff=staff)
    raise NotFound()


@bp.get("/wishes")
@require_role(*REVIEW_ROLES)
def wishes_page():
    """The review queue (most supported first), with tabs by status."""
    status = request.args.get("status", "under_review")
    if status not in dict(TABS):
        status = "under_review"
    rows = wish_review.review_queue(db.session, current_staff(), status=status)
    return render_template("wishes/queue.html", rows=rows, tabs=TABS, status=status, statuses=STATUS_LABELS,
                           reason_label=wish_withdraw.reason_label)


@bp.get(f"/wishes/{_ID}")
@require_role(*REVIEW_ROLES)
def wish_page(wish_id: int):
    """One wish: details, supporters, comments, milestones, timeline and the committee's actions."""
    staff = current_staff()
    wish = wishes.get_wish(db.session, wish_id, staff.community_id)
    targets = [w for w in wishes.list_wishes(db.session, staff.community_id, status="open", limit=100)
               if w.id != wish.id]
    return render_template("wishes/detail.html", w=wish, item=wishes.item_for(db.session, wish), targets=targets,
                           statuses=STATUS_LABELS, merged_into=wish.merged_into,
                           reason_label=wish_withdraw.reason_label(wish))


@bp.post(f"/wishes/{_ID}/<any({', '.join(ACTIONS)}):action>")
@require_role(*REVIEW_ROLES)
@unit_of_work
def wish_action(wish_id: int, action: str):
    """A form post from the wish's page; followers are told in WeChat once this commits."""
    try:
        _act(action, wish_id)
    except AppError as err:
        return refused(err, redirect(url_for("console.wish_page", wish_id=wish_id), code=303))
    told = "，已通知关注的住户" if action not in ("comment",) else ""
    flash(f"{DONE[action]}{told}", "success")
    return redirect(url_for("console.wish_page", wish_id=wish_id), code=303)


@bp.get("/wish-photos/<name>")
@require_role(*REVIEW_ROLES)
def wish_photo(name: str):
    """A milestone photo of a wish in this staff member's community."""
    path = photo_dir() / name
    milestone = wish_review.milestone_with_photo(db.session, PHOTO_PREFIX + name)
    if milestone is None or "/" in name or not path.is_file():
        raise NotFound("没有这张图片", code="photo_not_found")
    wishes.get_wish(db.session, milestone.wish_id, current_staff().community_id)
    return send_photo(path)


# ---- catalogue and thresholds ------------------------------------------------------------------

@bp.get("/wishes/catalogue")
@require_role(*REVIEW_ROLES)
@unit_of_work
def wish_catalogue_page():
    """The community's facility menu (editable) and its support thresholds."""
    staff = current_staff()
    items = wish_catalogue.items(db.session, staff.community_id, include_inactive=True)
    scores = wish_catalogue.ratings(db.session, [i.id for i in items])
    rules = list(db.session.scalars(select(WishThreshold).where(WishThreshold.community_id == staff.community_id)
                                    .order_by(WishThreshold.building.is_not(None), WishThreshold.building)))
    return render_template("wishes/catalogue.html", items=items, scores=scores, rules=rules,
                           default=wishes.threshold_for(db.session, staff.community_id))


@bp.post("/wishes/catalogue")
@require_role(*REVIEW_ROLES)
@unit_of_work
def wish_catalogue_save():
    """Add or edit a menu item."""
    staff = current_staff()
    raw_id = _value("item_id")
    try:
        item = wish_catalogue.save_item(
            db.session, staff.community_id, item_id=int(raw_id) if raw_id.isdigit() else None, name=_value("name"),
            aliases=_value("aliases"), description=_value("description"), typical_space=_value("typical_space"),
            typical_cost=_value("typical_cost"), serves=_value("serves"),
            active=request.form.get("active", "1") == "1", built=request.form.get("built") == "1")
    except AppError as err:
        return refused(err, redirect(url_for("console.wish_catalogue_page"), code=303))
    flash(f"已保存：{item.name}", "success")
    return redirect(url_for("console.wish_catalogue_page"), code=303)


@bp.post("/wishes/threshold")
@require_role(*REVIEW_ROLES)
@unit_of_work
def wish_threshold_save():
    """Set the support threshold for the community or one building (applies to new wishes)."""
    staff = current_staff()
    try:
        try:
            value = float(_value("value"))
        except ValueError:
            raise ValidationFailed("请填写门槛数值", code="bad_value") from None
        wishes.set_threshold(db.session, staff.community_id, mode=_value("mode"), value=value,
                             building=_value("building") or None)
    except AppError as err:
        return refused(err, redirect(url_for("console.wish_catalogue_page"), code=303))
    flash("门槛已保存，新提交的心愿按新门槛计算", "success")
    return redirect(url_for("console.wish_catalogue_page"), code=303)


# ---- JSON API ----------------------------------------------------------------------------------

def wish_json(wish: Wish) -> dict:
    """A wish for the committee."""
    return {"id": wish.id, "title": wish.title, "status": wish.status, "status_label": STATUS_LABELS[wish.status],
            "supports": wish.supports_count, "threshold": wish.threshold, "progress": wish.progress,
            "building": wish.building, "item_id": wish.item_id, "reason": wish.reason,
            "reason_label": wish_withdraw.reason_label(wish),
            "merged_into": wish.merged_into_id, "created_at": wish.created_at.isoformat() + "Z",
            "timeline": wishes.timeline(wish)}


@bp.get("/api/wishes")
@require_role(*REVIEW_ROLES)
def api_wishes():
    """JSON: the queue (?status=under_review|open|all|<status>)."""
    status = request.args.get("status", "under_review")
    if status not in (*STATUSES, "open", "all"):
        raise ValidationFailed("没有这种状态", code="bad_status")
    return jsonify(wishes=[wish_json(w) for w in wish_review.review_queue(db.session, current_staff(),
                                                                          status=status)])


@bp.post(f"/api/wishes/{_ID}/<any({', '.join(ACTIONS)}):action>")
@require_role(*REVIEW_ROLES)
@unit_of_work
def api_wish_action(wish_id: int, action: str):
    """JSON: review, accept {note}, reject {reason}, merge {into}, milestone {percentage, note}, complete, comment."""
    _act(action, wish_id)
    body = wish_json(wishes.get_wish(db.session, wish_id, current_staff().community_id))
    return jsonify(body)
