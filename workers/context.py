"""One job context for every RQ job: an app context, a session scope, commit or roll back."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context

from app.core.db import db

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
    """Run func(session, *args, **kwargs) in a fresh app context; commit on success."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        app = _job_app()
        with app.app_context():  # a new app context = a new session scope
            try:
                result = func(db.session, *args, **kwargs)
                db.session.commit()
                return result
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    return wrapper
