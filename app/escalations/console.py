"""The escalation queue: filtered lists, the conversation view, and what staff do (pages and JSON for polling)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for

from app.community.models import Resident
from app.core.clock import to_local, utcnow
from app.core.db import db, unit_of_work
from app.core.errors import AppError, ValidationFailed
from app.escalations import canned_replies as canned
from app.escalations import escalations as svc
from app.escalations import queue
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

HANDLERS = svc.HANDLER_ROLES
MAX_ID = "int(max=2147483647)"
POLL_SECONDS = 5

add_nav("console.escalation_list", "转人工", HANDLERS)
add_nav("console.conversations", "接管对话", HANDLERS)


def _filter() -> str:
    name = request.args.get("filter", "waiting")
    return name if name in queue.FILTERS else "waiting"


def _row(escalation) -> dict:
    resident = escalation.resident
    return {
        "id": escalation.id, "number": escalation.number, "status": escalation.status, "urgent": escalation.urgent,
        "status_label": queue.STATUS_LABELS.get(escalation.status, escalation.status),
        "breached": queue.is_breached(escalation), "summary": escalation.summary,
        "who": resident.name if resident else "未绑定用户",
        "where": resident.household.label if resident and resident.household else "",
        "assignee": escalation.assignee.name if escalation.assignee else None,
        "created": to_local(escalation.created_at).strftime("%m-%d %H:%M"),
        "url": url_for("console.escalation_view", escalation_id=escalation.id),
    }


@bp.get("/escalations")
@require_role(*HANDLERS)
def escalation_list():
    """The queue page: tabs for waiting, mine, urgent, breached; urgent and oldest first."""
    staff, name = current_staff(), _filter()
    rows = [_row(e) for e in queue.listing(db.session, staff, name)]
    return render_template("escalations/list.html", rows=rows, counts=queue.counts(db.session, staff),
                           filters=queue.FILTERS, current=name, poll_seconds=POLL_SECONDS)


@bp.get("/api/escalations")
@require_role(*HANDLERS)
def escalation_poll():
    """JSON for the queue page's polling: the tab counts and the current filter's rows."""
    staff, name = current_staff(), _filter()
    rows = [_row(e) for e in queue.listing(db.session, staff, name)]
    return jsonify(filter=name, counts=queue.counts(db.session, staff), rows=rows)


def _message(message, notifications) -> dict:
    payload = message.payload or {}
    if message.direction == "in":
        who = "resident"
    elif payload.get("staff_id"):
        who = "staff"
    else:
        who = "bot"
    return {"id": message.id, "who": who, "text": message.content or f"[{message.msg_type}]",
            "staff": payload.get("staff_name"), "at": to_local(message.created_at).strftime("%m-%d %H:%M"),
            "delivery": queue.delivery_label(message, notifications) if message.direction == "out" else "",
            "bot_reply": message.reply if message.direction == "in" else None}


def _messages(conversation_id: int, after: int = 0) -> list[dict]:
    rows = queue.history(db.session, conversation_id, after)
    notifications = queue.notifications_for(db.session, rows)
    return [_message(m, notifications) for m in rows]


@bp.get(f"/escalations/<{MAX_ID}:escalation_id>")
@require_role(*HANDLERS)
def escalation_view(escalation_id: int):
    """One conversation: its history, the resident's context, notes and the actions."""
    staff = current_staff()
    escalation = svc.get_for(db.session, escalation_id, staff)
    resident: Resident | None = escalation.resident
    return render_template(
        "escalations/view.html", e=escalation, resident=resident, messages=_messages(escalation.conversation_id),
        notes=queue.notes(db.session, escalation.id), canned=canned.canned_replies(db.session, staff),
        context=queue.resident_context(db.session, resident), breached=queue.is_breached(escalation),
        colleagues=[s for s in svc.handlers_for(db.session, escalation) if s.id != staff.id],
        poll_seconds=POLL_SECONDS, status_labels=queue.STATUS_LABELS,
    )


@bp.get(f"/api/escalations/<{MAX_ID}:escalation_id>")
@require_role(*HANDLERS)
def escalation_view_poll(escalation_id: int):
    """JSON for the conversation view's polling: status, and every message (with delivery) after ?after=."""
    escalation = svc.get_for(db.session, escalation_id, current_staff())
    after = max(0, min(request.args.get("after", 0, type=int), 2_147_483_647))
    return jsonify(id=escalation.id, status=escalation.status, urgent=escalation.urgent,
                   status_label=queue.STATUS_LABELS.get(escalation.status, escalation.status),
                   assignee=escalation.assignee.name if escalation.assignee else None,
                   messages=_messages(escalation.conversation_id, after))


def _act(escalation_id: int, action, done: str):
    """Run one staff action (the view's unit of work commits it), flash the outcome, back to the conversation."""
    back = redirect(url_for("console.escalation_view", escalation_id=escalation_id), code=303)
    try:
        action()
    except AppError as err:
        if err.status in (403, 404):
            raise
        return refused(err, back)
    flash(done, "success")
    return back


@bp.post(f"/escalations/<{MAX_ID}:escalation_id>/claim")
@require_role(*HANDLERS)
@unit_of_work
def escalation_claim(escalation_id: int):
    """Take the conversation: the bot stays silent from now on."""
    return _act(escalation_id, lambda: svc.claim(db.session, escalation_id, current_staff(), utcnow()),
                "已接手，住户的消息会直接显示在这里")


@bp.post(f"/escalations/<{MAX_ID}:escalation_id>/reply")
@require_role(*HANDLERS)
@unit_of_work
def escalation_reply(escalation_id: int):
    """Send the resident a reply (delivered to WeChat by a job)."""
    text = request.form.get("text", "")
    return _act(escalation_id, lambda: svc.reply(db.session, escalation_id, current_staff(), text, utcnow()),
                "回复已发出，送达情况见消息下方")


@bp.post(f"/escalations/<{MAX_ID}:escalation_id>/note")
@require_role(*HANDLERS)
@unit_of_work
def escalation_note(escalation_id: int):
    """Add an internal note (the resident never sees it)."""
    body = request.form.get("body", "")
    return _act(escalation_id, lambda: svc.add_note(db.session, escalation_id, current_staff(), body),
                "备注已保存")


@bp.post(f"/escalations/<{MAX_ID}:escalation_id>/transfer")
@require_role(*HANDLERS)
@unit_of_work
def escalation_transfer(escalation_id: int):
    """Hand the conversation to a colleague."""
    to = request.form.get("to", type=int)

    def action():
        if not to or to > 2_147_483_647:
            raise ValidationFailed("请选择要转交的同事", code="bad_transfer_target")
        svc.transfer(db.session, escalation_id, current_staff(), to, utcnow())

    return _act(escalation_id, action, "已转交")


@bp.post(f"/escalations/<{MAX_ID}:escalation_id>/resolve")
@require_role(*HANDLERS)
@unit_of_work
def escalation_resolve(escalation_id: int):
    """Close the conversation: the bot answers the resident again and asks for a rating."""
    return _act(escalation_id, lambda: svc.resolve(db.session, escalation_id, current_staff(), utcnow()),
                "已标记为解决，机器人将继续接待该住户")


@bp.post(f"/conversations/<{MAX_ID}:conversation_id>/takeover")
@require_role(*HANDLERS)
@unit_of_work
def conversation_takeover(conversation_id: int):
    """Take any conversation away from the bot."""
    escalation = svc.take_over(db.session, conversation_id, current_staff(), utcnow())
    flash("已接管该会话，机器人暂停回复", "success")
    return redirect(url_for("console.escalation_view", escalation_id=escalation.id), code=303)


@bp.get("/conversations")
@require_role(*HANDLERS)
def conversations():
    """Conversations the bot is having, newest first, each with a button to take it over."""
    staff = current_staff()
    q = request.args.get("q", "").strip()[:50]
    rows = queue.recent_conversations(db.session, staff, q)
    last = queue.last_messages(db.session, [c.id for c, _r in rows])
    return render_template("escalations/conversations.html", rows=rows, last=last, q=q)


@bp.get("/escalations/canned")
@require_role(*HANDLERS)
def canned_replies():
    """The community's canned replies; admins add and remove them."""
    return render_template("escalations/canned.html", canned=canned.canned_replies(db.session, current_staff()))


@bp.post("/escalations/canned")
@require_role("admin")
@unit_of_work
def canned_add():
    """Add a canned reply for the admin's community."""
    try:
        form = request.form
        canned.add_canned_reply(db.session, current_staff(), form.get("title", ""), form.get("body", ""))
    except AppError as err:
        return refused(err, redirect(url_for("console.canned_replies"), code=303))
    flash("已添加常用回复", "success")
    return redirect(url_for("console.canned_replies"), code=303)


@bp.post(f"/escalations/canned/<{MAX_ID}:canned_id>/delete")
@require_role("admin")
@unit_of_work
def canned_delete(canned_id: int):
    """Remove a canned reply of the admin's community."""
    canned.delete_canned_reply(db.session, current_staff(), canned_id)
    flash("已删除", "success")
    return redirect(url_for("console.canned_replies"), code=303)
