"""Binding approvals: pending requests in scope, approved or rejected by staff (page and JSON API)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for

from app.binding.bindings import approve_binding, pending_bindings, reject_binding
from app.core.db import db, unit_of_work
from app.core.errors import AppError, ValidationFailed
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused

APPROVERS = ("admin", "property")
MAX_REASON = 100
# Ids past a 32-bit integer are a 404 at routing, never a database overflow.


def _reason() -> str:
    reason = (request.form.get("reason") or (request.get_json(silent=True) or {}).get("reason") or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"拒绝理由请不要超过 {MAX_REASON} 个字")
    return reason or "信息核对不一致"


@bp.get("/bindings")
@require_role(*APPROVERS)
def bindings():
    """Pending binding requests this staff member may decide, oldest first."""
    rows = pending_bindings(db.session, current_staff())
    return render_template("console/bindings.html", bindings=rows)


@bp.post("/bindings/<int(max=2147483647):binding_id>/approve")
@require_role(*APPROVERS)
@unit_of_work
def approve(binding_id: int):
    """Approve a binding; the resident is told in WeChat once this commits."""
    try:
        resident = approve_binding(db.session, binding_id, current_staff())
        label = resident.household.label if resident.household else ""
    except AppError as err:
        return refused(err, redirect(url_for("console.bindings"), code=303))
    flash(f"已确认绑定：{resident.name}（{label}），系统会在微信里通知住户", "success")
    return redirect(url_for("console.bindings"), code=303)


@bp.post("/bindings/<int(max=2147483647):binding_id>/reject")
@require_role(*APPROVERS)
@unit_of_work
def reject(binding_id: int):
    """Reject a binding with a reason the resident is told."""
    try:
        reject_binding(db.session, binding_id, current_staff(), _reason())
    except AppError as err:
        return refused(err, redirect(url_for("console.bindings"), code=303))
    flash("已拒绝该绑定申请，住户会在微信里收到理由", "success")
    return redirect(url_for("console.bindings"), code=303)


@bp.post("/api/bindings/<int(max=2147483647):binding_id>/approve")
@require_role(*APPROVERS)
@unit_of_work
def api_approve(binding_id: int):
    """JSON: approve a binding (token in the X-CSRF-Token header)."""
    resident = approve_binding(db.session, binding_id, current_staff())
    return jsonify(binding_id=binding_id, status="confirmed", resident_id=resident.id)


@bp.post("/api/bindings/<int(max=2147483647):binding_id>/reject")
@require_role(*APPROVERS)
@unit_of_work
def api_reject(binding_id: int):
    """JSON: reject a binding with an optional {"reason": ...}."""
    binding = reject_binding(db.session, binding_id, current_staff(), _reason())
    return jsonify(binding_id=binding.id, status=binding.status)
