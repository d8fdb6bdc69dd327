"""/healthz: the process is up. /readyz: database and Redis reachable, schema at head, and what the doors
report about themselves (e.g. messages kept in the /wechat journal while the database was down)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, jsonify
from sqlalchemy import text

from app.core.db import db
from app.core.migration_check import current_revision, head_revision
from app.core.redis_conn import get_redis

# name -> fn(app) -> "ok ..." or what is wrong; a door registers its own (the core imports no door)
_checks: dict[str, Callable[[Flask], str]] = {}


def add_check(name: str, check: Callable[[Flask], str]) -> None:
    """Report check(app) under name in /readyz; a value that does not start with "ok" makes it not ready."""
    _checks[name] = check


def init_app(app: Flask) -> None:
    """Register the two health routes."""

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        checks: dict[str, str] = {}
        try:
            with db.engine.connect() as conn:  # not the request's session: nothing broken is left behind
                conn.execute(text("SELECT 1"))
            rev, head = current_revision(app), head_revision()
            checks["database"] = "ok"
            checks["migrations"] = "ok" if rev == head else f"at {rev}, head is {head}"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
            checks["migrations"] = "unknown"
        try:
            get_redis(app).ping()
            checks["redis"] = "ok" if app.config.get("REDIS_URL") else "ok (embedded)"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
        for name, check in _checks.items():
            try:
                checks[name] = check(app)
            except Exception as exc:
                checks[name] = f"unknown: {type(exc).__name__}"
        ready = all(v.startswith("ok") for v in checks.values())
        return jsonify(status="ready" if ready else "not_ready", checks=checks), 200 if ready else 503
