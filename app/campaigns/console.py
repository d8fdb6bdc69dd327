"""Campaigns in the console: list, new draft with audience preview, schedule, progress, cancel;
and the same under /console/api/campaigns as JSON (CSRF token in the X-CSRF-Token header)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, jsonify, redirect, render_template, request, url_for

from app.campaigns import audience
from app.campaigns import campaigns as svc
from app.core.clock import SHANGHAI, utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, ValidationFailed
from app.notify.models import CATEGORIES
from app.notify.notify import CATEGORY_LABELS, DEFAULT_TEMPLATES
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

SENDERS = ("admin", "property")
ID = "<int(max=2147483647):campaign_id>"
add_nav("console.campaigns", "群发", SENDERS)


def _fields(source: dict) -> dict:
    return {
        "title": str(source.get("title") or ""), "body": str(source.get("body") or ""),
        "audience_expr": str(source.get("audience") or ""),
        "category": str(source.get("category") or "activities"),
        "template": str(source.get("template") or "notice"),
        "link": (str(source.get("link")).strip() or None) if source.get("link") else None,
        "urgent": source.get("urgent") in (True, "1", "on", "true"),
    }


def _when(value: str | None) -> datetime | None:
    """A local 'YYYY-MM-DDTHH:MM' (the datetime-local input; Shanghai) as naive UTC; empty = now."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationFailed("发送时间格式不对", code="invalid_time") from exc
    at = at if at.tzinfo else at.replace(tzinfo=SHANGHAI)
    return at.astimezone(UTC).replace(tzinfo=None)


def _form_context(**extra) -> dict:
    return {"categories": [(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
            "templates": [(k, v[0]) for k, v in DEFAULT_TEMPLATES.items() if k != "digest"], **extra}


# ----- pages -----------------------------------------------------------------------------
@bp.get("/campaigns")
@require_role(*SENDERS)
def campaigns():
    """The community's campaigns, newest first, with progress."""
    staff = current_staff()
    rows = [(c, svc.progress(db.session, c)) for c in svc.list_campaigns(db.session, staff.community_id)]
    return render_template("campaigns/list.html", rows=rows)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require_role(*SENDERS)
@unit_of_work
def new_campaign():
    """The draft form; 预览 shows the audience's size and a sample, 保存草稿 saves it."""
    staff = current_staff()
    form = request.form if request.method == "POST" else {}
    preview = error = None
    if request.method == "POST":
        fields = _fields(form)
        try:
            if form.get("action") == "preview":
                preview = audience.preview(db.session, staff.community_id, fields["audience_expr"])
            else:
                campaign = svc.create_draft(db.session, staff.community_id, staff_id=staff.id, **fields)
                flash("草稿已保存，确认人数和内容后再安排发送", "success")
                return redirect(url_for("console.campaign", campaign_id=campaign.id), code=303)
        except AppError as err:
            db.session.rollback()  # the page is shown again with the reason; nothing of the draft is kept
            error = err
    status = 422 if error else 200
    return render_template("campaigns/new.html", form=form, preview=preview, error=error, **_form_context()), status


@bp.get(f"/campaigns/{ID}")
@require_role(*SENDERS)
def campaign(campaign_id: int):
    """One campaign: content, audience size, progress, and its actions."""
    staff = current_staff()
    row = svc.get(db.session, staff.community_id, campaign_id)
    size = audience.count(db.session, staff.community_id, row.audience) if row.status == "draft" else None
    return render_template("campaigns/show.html", c=row, progress=svc.progress(db.session, row), size=size,
                           labels=CATEGORY_LABELS)


@bp.post(f"/campaigns/{ID}/schedule")
@require_role(*SENDERS)
@unit_of_work
def schedule_campaign(campaign_id: int):
    """Schedule a draft for now or a chosen local time."""
    staff = current_staff()
    try:
        svc.schedule(db.session, staff.community_id, campaign_id, at=_when(request.form.get("at")))
    except AppError as err:
        return refused(err, redirect(url_for("console.campaign", campaign_id=campaign_id), code=303))
    flash("已安排发送", "success")
    return redirect(url_for("console.campaign", campaign_id=campaign_id), code=303)


@bp.post(f"/campaigns/{ID}/cancel")
@require_role(*SENDERS)
@unit_of_work
def cancel_campaign(campaign_id: int):
    """Cancel: nothing more is sent; what went out stays sent."""
    staff = current_staff()
    try:
        svc.cancel(db.session, staff.community_id, campaign_id)
    except AppError as err:
        return refused(err, redirect(url_for("console.campaign", campaign_id=campaign_id), code=303))
    flash("已取消，剩余的消息不会再发出", "success")
    return redirect(url_for("console.campaign", campaign_id=campaign_id), code=303)


# ----- JSON API --------------------------------------------------------------------------
def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("请求内容应为 JSON 对象", code="malformed_json")
    return body


@bp.get("/api/campaigns")
@require_role(*SENDERS)
def api_campaigns():
    """JSON: the community's campaigns with progress."""
    staff = current_staff()
    return jsonify(campaigns=[svc.to_dict(c, svc.progress(db.session, c))
                              for c in svc.list_campaigns(db.session, staff.community_id)])


@bp.post("/api/campaigns/preview")
@require_role(*SENDERS)
@unit_of_work
def api_preview():
    """JSON: {"audience": expr} -> count and sample, nothing sent."""
    expr = str(_json_body().get("audience") or "")
    return jsonify(audience.preview(db.session, current_staff().community_id, expr))


@bp.post("/api/campaigns")
@require_role(*SENDERS)
@unit_of_work
def api_create():
    """JSON: create a draft."""
    staff = current_staff()
    fields = _fields(_json_body())
    row = svc.create_draft(db.session, staff.community_id, staff_id=staff.id, **fields)
    return jsonify(svc.to_dict(row, svc.progress(db.session, row))), 201


@bp.get(f"/api/campaigns/{ID}")
@require_role(*SENDERS)
def api_campaign(campaign_id: int):
    """JSON: one campaign with progress (sent of total)."""
    row = svc.get(db.session, current_staff().community_id, campaign_id)
    return jsonify(svc.to_dict(row, svc.progress(db.session, row)))


@bp.post(f"/api/campaigns/{ID}/schedule")
@require_role(*SENDERS)
@unit_of_work
def api_schedule(campaign_id: int):
    """JSON: {"at": "2026-12-01T09:00"} (Shanghai time; omitted = now)."""
    at = _when(_json_body().get("at"))
    cid = current_staff().community_id
    row = svc.schedule(db.session, cid, campaign_id, at=at, now=utcnow())
    return jsonify(svc.to_dict(row, svc.progress(db.session, row)))


@bp.post(f"/api/campaigns/{ID}/cancel")
@require_role(*SENDERS)
@unit_of_work
def api_cancel(campaign_id: int):
    """JSON: cancel; the remaining batches send nothing."""
    cid = current_staff().community_id
    row = svc.cancel(db.session, cid, campaign_id)
    return jsonify(svc.to_dict(row, svc.progress(db.session, row)))
