"""Background jobs that failed for good: admins see them on the overview and here, with the reason,
and hand one over again (jobs are idempotent) or set it aside once dealt with."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.db import db, unit_of_work
from app.core.outbox import retry_failed
from app.core.outbox_job import OutboxJob
from console.auth import require_role
from console.blueprint import bp
from console.dashboard import Tile, add_tile
from console.nav import add_nav

SHOWN = 200


def failed_count(session: Session, _staff: Staff | None = None) -> int:
    """How many jobs failed for good and wait for an admin."""
    return session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.status == "failed")) or 0


add_tile(Tile("failed_jobs", "后台任务失败", failed_count, roles=("admin",), endpoint="console.failed_jobs"))
add_nav("console.failed_jobs", "后台任务", ("admin",))


@bp.get("/jobs/failed")
@require_role("admin")
def failed_jobs():
    """The jobs that failed for good, newest first, with the reason."""
    rows = db.session.scalars(select(OutboxJob).where(OutboxJob.status == "failed")
                              .order_by(OutboxJob.id.desc()).limit(SHOWN)).all()
    return render_template("console/failed_jobs.html", rows=rows, total=failed_count(db.session))


@bp.post("/jobs/<int(max=2147483647):job_id>/retry")
@require_role("admin")
@unit_of_work
def retry_job(job_id: int):
    """Hand a failed job over again (the relay picks it up after this commits)."""
    if retry_failed(current_app._get_current_object(), db.session, job_id):
        flash(f"任务 #{job_id} 已重新排队", "success")
    else:
        flash(f"任务 #{job_id} 已不在失败列表中", "error")
    return redirect(url_for("console.failed_jobs"), code=303)


@bp.post("/jobs/<int(max=2147483647):job_id>/dismiss")
@require_role("admin")
@unit_of_work
def dismiss_job(job_id: int):
    """Set a failed job aside once it has been dealt with by hand."""
    dismissed = db.session.execute(update(OutboxJob).where(OutboxJob.id == job_id, OutboxJob.status == "failed")
                                   .values(status="dismissed").execution_options(synchronize_session=False))
    if dismissed.rowcount:
        flash(f"任务 #{job_id} 已标记为已处理", "success")
    else:
        flash(f"任务 #{job_id} 已不在失败列表中", "error")
    return redirect(url_for("console.failed_jobs"), code=303)
