"""One job context for every RQ job: an app context, a session scope, commit or roll back."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from rq import get_current_job

from app.core.db import db
from app.core.outbox import mark_done, mark_failed, row_id_of

log = logging.getLogger(__name__)
_preloaded: dict[str, Flask] = {}


def preload(app: Flask) -> None:
    """Remember the app the worker process built once, so jobs do not build one each."""
    _preloaded["app"] = app


def _job_app() -> Flask:
    if "app" in _preloaded:
        return _preloaded["app"]
    if has_app_context():  # embedded mode, tests: the job runs inside the caller's process
        return current_app._get_current_object()
    from app import create_app  # noqa: PLC0415 - a worker that was not preloaded

    preload(create_app())
    return _preloaded["app"]


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run func(session, *args, **kwargs) in a fresh app context; commit on success.

    The job's outbox row is the truth about it: it becomes done in the same commit as the job's work,
    and failed (with the reason) when the job raises with no retry left."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = _job_app()
        current = get_current_job()
        row_id = row_id_of(current.id if current is not None else None)
        with app.app_context():  # a new app context = a new session scope
            try:
                result = func(db.session, *args, **kwargs)
                if row_id is not None:
                    mark_done(db.session, row_id)
                db.session.commit()
                return result
            except Exception as exc:
                db.session.rollback()
                if row_id is not None and not current.retries_left:  # a row id means an RQ job
                    mark_failed(row_id, f"{type(exc).__name__}: {exc}")
                    log.error("job %s (%s) failed for good: %s", current.id, func.__name__, exc)
                raise
            finally:
                db.session.remove()

    return wrapper
