"""Tickets in the console: the queue by status and SLA, a ticket's page with its actions, and the staff JSON API."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, NotFound, ValidationFailed
from app.core.uploads import save_photo, send_photo
from app.tickets import dispatch, serialise
from app.tickets.models import OUTCOMES, STATUSES, Ticket, TicketPhoto
from app.tickets.records import CATEGORY_LABELS, KIND_LABELS, OUTCOME_LABELS, STATUS_LABELS
from app.tickets.sla import sla_state
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

HANDLERS = dispatch.TICKET_ROLES
STAFF_PHOTO_PREFIX = "/console/ticket-photos/"
TABS = (("open", "待处理"), ("mine", "我的"), ("submitted", "待受理"), ("assigned", "已派单"),
        ("in_progress", "处理中"), ("resolved", "已处理"), ("closed", "已完结"), ("all", "全部"))
SLA_LABELS = {"breached": "已超时", "due_soon": "即将超时", "ok": "未超时", "met": "按时受理", "late": "超时受理",
              "none": ""}
_ID = "<int(max=2147483647):ticket_id>"

add_nav("console.tickets", "报事报修", HANDLERS)


def _labels() -> dict:
    return {"kinds": KIND_LABELS, "categories": CATEGORY_LABELS, "statuses": STATUS_LABELS,
            "outcomes": OUTCOME_LABELS, "sla_labels": SLA_LABELS, "dispatch_modes": dispatch.DISPATCH_LABELS}


def _assignees(ticket: Ticket) -> list[Staff]:
    staff = db.session.scalars(select(Staff).where(Staff.community_id == ticket.community_id,
                                                   Staff.active.is_(True), Staff.role.in_(HANDLERS))
                               .order_by(Staff.name, Staff.id))
    return [s for s in staff if not ticket.building or s.covers_building(ticket.building)]


@bp.get("/tickets")
@require_role(*HANDLERS)
def tickets():
    """The queue: urgent first, then the soonest SLA; tabs by status."""
    status = request.args.get("status", "open")
    if status not in dict(TABS):
        status = "open"
    rows = dispatch.queue(db.session, current_staff(), status=status)
    now = utcnow()
    return render_template("tickets/queue.html", rows=rows, tabs=TABS, status=status,
                           sla={t.id: sla_state(t, now) for t in rows}, **_labels())


@bp.get(f"/tickets/{_ID}")
@require_role(*HANDLERS)
def ticket_page(ticket_id: int):
    """One ticket: details, photos, timeline and the actions open to this staff member."""
    ticket = dispatch.ticket_for_staff(db.session, ticket_id, current_staff())
    return render_template("tickets/detail.html", t=ticket, assignees=_assignees(ticket),
                           sla=sla_state(ticket, utcnow()), outcome_choices=OUTCOMES, **_labels())


def _photos() -> list[str]:
    """Save uploaded photos (field `photos`, several allowed); their URLs."""
    uploads = [u for u in request.files.getlist("photos") if u and u.filename]
    return [STAFF_PHOTO_PREFIX + save_photo(u, _photo_dir(), "s") for u in uploads[:9]]


def _photo_dir() -> Path:
    return Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads") / "tickets"


def _value(name: str) -> str:
    if request.is_json:
        return str((request.get_json(silent=True) or {}).get(name) or "").strip()
    return (request.form.get(name) or "").strip()


def _act(action: str, ticket_id: int) -> Ticket:
    """Run one staff action on a ticket from the form or JSON body."""
    staff, session = current_staff(), db.session
    if action == "accept":
        return dispatch.accept(session, ticket_id, staff, note=_value("note"))
    if action == "assign":
        raw = _value("assignee_id")
        if not raw.isdigit():
            raise ValidationFailed("请选择处理人", code="bad_assignee")
        return dispatch.assign(session, ticket_id, staff, int(raw), note=_value("note"))
    if action == "grab":
        return dispatch.grab(session, ticket_id, staff)
    if action == "progress":
        return dispatch.progress(session, ticket_id, staff, _value("note"), photos=_photos())
    if action == "resolve":
        return dispatch.resolve(session, ticket_id, staff, outcome=_value("outcome"), note=_value("note"),
                                photos=_photos())
    raise NotFound()


DONE = {"accept": "已受理", "assign": "已派单", "grab": "已接单", "progress": "已记录进展", "resolve": "已办结"}


@bp.post(f"/tickets/{_ID}/<any(accept, assign, grab, progress, resolve):action>")
@require_role(*HANDLERS)
@unit_of_work
def ticket_action(ticket_id: int, action: str):
    """A form post from the ticket page; the resident is told in WeChat once this commits."""
    try:
        ticket = _act(action, ticket_id)
        number = ticket.number
    except AppError as err:
        return refused(err, redirect(url_for("console.ticket_page", ticket_id=ticket_id), code=303))
    flash(f"{DONE[action]}：{number}，已通知住户" if action != "grab" else f"已接单：{number}", "success")
    return redirect(url_for("console.ticket_page", ticket_id=ticket_id), code=303)


@bp.get("/ticket-photos/<name>")
@require_role(*HANDLERS)
def ticket_photo(name: str):
    """A ticket photo (resident uploads and staff before/after photos) for staff who may see the ticket."""
    photo = db.session.scalar(select(TicketPhoto).where(TicketPhoto.url.in_(
        (STAFF_PHOTO_PREFIX + name, "/api/v1/ticket-photos/" + name))))
    path = _photo_dir() / name
    if photo is None or "/" in name or not path.is_file():
        raise NotFound("没有这张图片", code="photo_not_found")
    dispatch.ticket_for_staff(db.session, photo.ticket_id, current_staff())
    return send_photo(path)


# ---- JSON API ----------------------------------------------------------------------------------

@bp.get("/api/tickets")
@require_role(*HANDLERS)
def api_tickets():
    """JSON: the queue (?status=open|mine|all|<status>), urgent and soonest-due first."""
    status = request.args.get("status", "open")
    if status not in (*STATUSES, "open", "mine", "all"):
        raise ValidationFailed("没有这种状态", code="bad_status")
    rows = dispatch.queue(db.session, current_staff(), status=status)
    return jsonify(tickets=[serialise.for_staff(t, utcnow()) for t in rows])


@bp.get(f"/api/tickets/{_ID}")
@require_role(*HANDLERS)
def api_ticket(ticket_id: int):
    """JSON: one ticket with its photos and timeline."""
    ticket = dispatch.ticket_for_staff(db.session, ticket_id, current_staff())
    return jsonify(serialise.for_staff(ticket, utcnow(), full=True))


@bp.post(f"/api/tickets/{_ID}/<any(accept, assign, grab, progress, resolve):action>")
@require_role(*HANDLERS)
@unit_of_work
def api_ticket_action(ticket_id: int, action: str):
    """JSON: accept, assign {assignee_id}, grab, progress {note}, resolve {outcome, note} (token in X-CSRF-Token)."""
    ticket = _act(action, ticket_id)
    body = serialise.for_staff(ticket, utcnow(), full=True)
    return jsonify(body)
