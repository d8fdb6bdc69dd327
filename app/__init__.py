"""The application factory: create_app builds config, database, Redis, blueprints and commands."""

from __future__ import annotations

import importlib
import logging

from flask import Flask, jsonify, request
from sqlalchemy.orm import configure_mappers
from werkzeug.exceptions import HTTPException

from app.core.db import db, migrate, ping_when_idle
from app.core.errors import AppError, NotMigrated, unavailable
from app.core.migration_check import MIGRATIONS_DIR, is_migrated
from app.core.outbox import install_after_commit_relay
from app.core.redis_conn import init_redis
from config import INSTANCE_DIR, Config, check_production

# One package per feature, lowest layer first; each wires itself in through init_app(app)
# (models, chat flows, routes, periodic jobs, demo seed, menu lines). Adding a feature is
# one package and one line here.
FEATURES = (
    "app.community",
    "app.binding",
    "app.chat",
    "app.notify",
    "app.tickets",
    "app.wishes",
    "app.clinic",
    "app.parking",
    "app.escalations",
    "app.campaigns",
    "app.faq",
    "app.merchants",
    "app.devices",
    "app.welfare",
    "app.activities",
    "app.cockpit",
)
# The doors: the /wechat endpoint, the mini-program API, the staff console, the workers. They
# register their blueprints and commands after the features attached their routes to them.
ENTRY_PACKAGES = ("bots", "miniprogram_api", "console", "workers")
UNGUARDED_PREFIXES = ("/healthz", "/readyz", "/static")

log = logging.getLogger(__name__)


def create_app(config: Config | None = None) -> Flask:
    """Build the Flask app from a Config (the environment's when none is given)."""
    config = config or Config()
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(config)
    for warning in check_production(app.config):  # raises InsecureConfig naming what is missing
        log.warning("SECURITY: %s", warning)
    app.config["EMBEDDED"] = config.embedded
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    init_redis(app)
    with app.app_context():
        install_after_commit_relay(app)
        if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
            ping_when_idle(db.engine, app.config["DB_PING_IDLE_SECONDS"])

    _register_errors(app)
    _guard_unmigrated(app)

    from app.core import headers, health  # noqa: PLC0415

    health.init_app(app)
    headers.init_app(app)
    for name in (*FEATURES, *ENTRY_PACKAGES):
        importlib.import_module(name).init_app(app)
    configure_mappers()  # once here, not in the first request of every worker (~0.4 s of CPU each)
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(err: AppError):
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(413)
    def _too_large(_err):
        return jsonify(AppError("请求内容过大", code="payload_too_large").to_dict()), 413

    @app.errorhandler(404)
    def _not_found(_err):
        return jsonify(AppError("没有这个地址", code="not_found").to_dict()), 404

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        """A lost database or Redis is a 503 with a retry hint; anything else stays a 500."""
        if isinstance(err, HTTPException):
            return err
        down = unavailable(err)
        if down is None:
            log.exception("unhandled error", exc_info=err)
            return jsonify(AppError("服务暂时出了点问题，请稍后再试", code="internal_error").to_dict()), 500
        return jsonify(down.to_dict()), 503, {"Retry-After": str(down.retry_after)}

    @app.errorhandler(405)
    def _bad_method(err):
        allow = dict(err.get_headers()).get("Allow") if isinstance(err, HTTPException) else None
        headers = {"Allow": allow} if allow else {}
        return jsonify(AppError("不支持这种请求方式", code="method_not_allowed").to_dict()), 405, headers


def _guard_unmigrated(app: Flask) -> None:
    """Answer 503 with a clear message until the database is at the newest migration."""
    state = {"ok": not app.config.get("CHECK_MIGRATIONS", True)}

    @app.before_request
    def _check_schema():
        if state["ok"] or request.path.startswith(UNGUARDED_PREFIXES):
            return None
        try:
            state["ok"] = is_migrated(app)
        except Exception as exc:  # database unreachable: same answer, logged
            log.error("schema check failed: %s", exc)
        if not state["ok"]:
            err = NotMigrated()
            return jsonify(err.to_dict()), err.status
        return None
