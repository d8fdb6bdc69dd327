"""Common questions in the console (admin, property): the community's entries, adding and editing them,
deactivating and restoring, and a box to try a resident's question against them."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.core.db import db, unit_of_work
from app.core.errors import AppError
from app.faq import faq, matching
from app.faq.faq import EDITOR_ROLES
from console.auth import current_staff, require_role
from console.blueprint import bp
from console.forms import refused
from console.nav import add_nav

_ID = "<int(max=2147483647):entry_id>"

add_nav("console.faq_list", "常见问题", EDITOR_ROLES)


def _fields() -> dict:
    form = request.form
    return {"question": form.get("question", ""), "answer": form.get("answer", ""),
            "synonyms": form.get("synonyms", ""), "category": form.get("category", "")}


@bp.get("/faq")
@require_role(*EDITOR_ROLES)
def faq_list():
    """Every entry of the community (inactive ones marked), the form to add one, and ?try= to test a question."""
    staff = current_staff()
    rows = faq.entries(db.session, staff.community_id, active_only=False)
    tried = request.args.get("try", "").strip()[:100]
    ranked = matching.rank(tried, [e for e in rows if e.active])[:3] if tried else []
    return render_template("faq/list.html", rows=rows, tried=tried, ranked=ranked, threshold=matching.THRESHOLD)


@bp.post("/faq")
@require_role(*EDITOR_ROLES)
@unit_of_work
def faq_add():
    """Add an entry for the staff member's community."""
    try:
        entry = faq.add_entry(db.session, current_staff(), **_fields())
    except AppError as err:
        return refused(err, redirect(url_for("console.faq_list"), code=303))
    flash(f"已添加：{entry.question}", "success")
    return redirect(url_for("console.faq_list"), code=303)


@bp.get(f"/faq/{_ID}")
@require_role(*EDITOR_ROLES)
def faq_edit(entry_id: int):
    """One entry's form."""
    entry = faq.get_entry(db.session, entry_id, current_staff().community_id)
    return render_template("faq/edit.html", e=entry)


@bp.post(f"/faq/{_ID}")
@require_role(*EDITOR_ROLES)
@unit_of_work
def faq_update(entry_id: int):
    """Save an entry's question, synonyms, answer and category."""
    try:
        entry = faq.update_entry(db.session, current_staff(), entry_id, **_fields())
    except AppError as err:
        if err.status == 404:
            raise
        return refused(err, redirect(url_for("console.faq_edit", entry_id=entry_id), code=303))
    flash(f"已保存：{entry.question}", "success")
    return redirect(url_for("console.faq_list"), code=303)


@bp.post(f"/faq/{_ID}/<any(deactivate, activate):action>")
@require_role(*EDITOR_ROLES)
@unit_of_work
def faq_set_active(entry_id: int, action: str):
    """Deactivate an entry (residents stop getting it; it is kept) or bring it back."""
    entry = faq.set_active(db.session, current_staff(), entry_id, action == "activate")
    flash(f"已{'启用' if entry.active else '停用'}：{entry.question}", "success")
    return redirect(url_for("console.faq_list"), code=303)
