"""Campaigns in the console: list, new draft with audience preview, schedule, progress, cancel;
and the same under /console/api/campaigns as JSON (CSRF token in the X-CSRF-Token header).

Senders (admin, property) make campaigns. Doctors reach the audience preview too, count only and within
their scope, so they can count their residents by health colour; an audience naming a health tag is
counted, previewed, saved or sent only by a doctor within their scope (audience.authorize), anyone else
gets 403 `health_audience_forbidden` on the page and in the JSON alike, and the refused attempt is kept
in the health-data access log (committed before the 403 is raised).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, jsonify, redirect, render_template, request, session, url_for

from app.campaigns import audience
from app.campaigns import campaigns as svc
from app.community.health_access import session_ref
from app.core.clock import SHANGHAI, utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, Forbidden, ValidationFailed
from app.notify.models import CATEGORIES
from app.notify.notify import CATEGORY_LABELS, DEFAULT_TEMPLATES
from console.auth import SESSION_LOGIN_AT, SESSION_VERSION, current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

SENDERS = ("admin", "property")
PREVIEWERS = (*SENDERS, "doctor")  # doctors: count only, within their scope, never saving or sending
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


def _reader() -> dict:
    """Where this request comes from, for the health-data access log: IP and a hash naming the sign-in."""
    staff = current_staff()
    return {"ip": request.remote_addr,
            "session_ref": session_ref(staff.id, session.get(SESSION_LOGIN_AT), session.get(SESSION_VERSION))}


def _keeping_refusal(action):
    """Run action(); a Forbidden it raises is committed first (the refused attempt stays logged)."""
    try:
        return action()
    except Forbidden:
        db.session.commit()
        raise


def _preview(expr: str) -> dict:
    staff = current_staff()
    sender = staff.role in SENDERS
    return _keeping_refusal(lambda: audience.read_preview(
        db.session, staff, expr, sample=10 if sender else 0, within_scope=not sender, **_reader()))


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
@require_role(*PREVIEWERS)
@unit_of_work
def new_campaign():
    """The draft form; 预览 shows the audience's size and a sample (the size only for a health audience, and
    for doctors), 保存草稿 saves it (senders only)."""
    staff = current_staff()
    form = request.form if request.method == "POST" else {}
    preview = error = None
    if request.method == "POST":
        fields = _fields(form)
        if form.get("action") != "preview" and staff.role not in SENDERS:
            raise Forbidden("您的岗位只能预览人数，不能保存或发送群发", code="role_forbidden")
        try:
            if form.get("action") == "preview":
                preview = _preview(fields["audience_expr"])
            else:
                campaign = _keeping_refusal(lambda: svc.create_draft(
                    db.session, staff.community_id, staff_id=staff.id, **fields, **_reader()))
                flash("草稿已保存，确认人数和内容后再安排发送", "success")
                return redirect(url_for("console.campaign", campaign_id=campaign.id), code=303)
        except Forbidden:
            raise  # a 403 page, not the form again
        except AppError as err:
            db.session.rollback()  # the page is shown again with the reason; nothing of the draft is kept
            error = err
    status = 422 if error else 200
    return render_template("campaigns/new.html", form=form, preview=preview, error=error,
                           may_save=staff.role in SENDERS, **_form_context()), status


@bp.get(f"/campaigns/{ID}")
@require_role(*SENDERS)
@unit_of_work
def campaign(campaign_id: int):
    """One campaign: content, audience size, progress, and its actions."""
    staff = current_staff()
    row = svc.get(db.session, staff.community_id, campaign_id)
    size, health_hidden = None, False
    if row.status == "draft":  # a health audience's size only for one who may count it (and then logged)
        health_hidden = audience.refusal(db.session, staff, row.audience) is not None
        if not health_hidden:
            size = audience.read_count(db.session, staff, row.audience, purpose="campaign_count", **_reader())
    return render_template("campaigns/show.html", c=row, progress=svc.progress(db.session, row), size=size,
                           health_hidden=health_hidden, labels=CATEGORY_LABELS)


@bp.post(f"/campaigns/{ID}/schedule")
@require_role(*SENDERS)
@unit_of_work
def schedule_campaign(campaign_id: int):
    """Schedule a draft for now or a chosen local time."""
    staff = current_staff()
    try:
        _keeping_refusal(lambda: svc.schedule(db.session, staff.community_id, campaign_id,
                                              at=_when(request.form.get("at")), staff_id=staff.id, **_reader()))
    except Forbidden:
        raise  # a 403 page; the refused attempt is logged
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
@require_role(*PREVIEWERS)
@unit_of_work
def api_preview():
    """JSON: {"audience": expr} -> count and sample (count only for a health audience, and for doctors)."""
    expr = str(_json_body().get("audience") or "")
    return jsonify(_preview(expr))


@bp.post("/api/campaigns")
@require_role(*SENDERS)
@unit_of_work
def api_create():
    """JSON: create a draft."""
    staff = current_staff()
    fields = _fields(_json_body())
    row = _keeping_refusal(lambda: svc.create_draft(db.session, staff.community_id, staff_id=staff.id, **fields,
                                                    **_reader()))
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
    staff = current_staff()
    row = _keeping_refusal(lambda: svc.schedule(db.session, staff.community_id, campaign_id, at=at, now=utcnow(),
                                                staff_id=staff.id, **_reader()))
    return jsonify(svc.to_dict(row, svc.progress(db.session, row)))


@bp.post(f"/api/campaigns/{ID}/cancel")
@require_role(*SENDERS)
@unit_of_work
def api_cancel(campaign_id: int):
    """JSON: cancel; the remaining batches send nothing."""
    cid = current_staff().community_id
    row = svc.cancel(db.session, cid, campaign_id)
    return jsonify(svc.to_dict(row, svc.progress(db.session, row)))
