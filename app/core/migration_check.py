"""Refuse to serve a database whose schema is not at the newest migration."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from app.core.db import db

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def head_revision() -> str | None:
    """The newest revision in migrations/."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(app: Flask) -> str | None:
    """The revision the database says it is at (None when never migrated)."""
    with app.app_context(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_migrated(app: Flask) -> bool:
    """True when the database is at head."""
    return current_revision(app) == head_revision()
