"""The database: the Flask extensions (created unbound, wired in create_app) and small session helpers."""

import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
P = ParamSpec("P")
R = TypeVar("R")


def conflict_insert(session: Session, table):
    """INSERT for the session's database that can say ON CONFLICT DO NOTHING (PostgreSQL and SQLite share
    the API): one row or none, without a savepoint."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # noqa: PLC0415
    else:
        from sqlalchemy.dialects.sqlite import insert  # noqa: PLC0415
    return insert(table)


def insert_once(session: Session, row: object) -> bool:
    """Insert a row guarded by a unique constraint; False when it was already there (even if a request raced)."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def unit_of_work(view: Callable[P, R]) -> Callable[P, R]:
    """Run a view as one transaction, as the job context runs a job: commit when it returns, roll back
    when it raises (the error then reaches the door's error handler with nothing half-written)."""

    @wraps(view)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return run


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat unused for idle_seconds or more.

    pool_pre_ping checks on every checkout: one more round trip in every request, which under load
    buys nothing (a connection used a moment ago is alive). A connection that waited long may have been
    cut (the database restarted, a proxy timed out), so that one is pinged, and a dead one is replaced
    by the pool before the request sees it (SQLAlchemy's "disconnect handling, pessimistic" recipe).
    A connection cut while busy still fails its statement; SQLAlchemy then invalidates the pool and the
    door's outage handling answers (the chat journals the message)."""

    def note_use(_dbapi_connection, record, *_args) -> None:
        record.info["used_at"] = time.monotonic()

    def check(dbapi_connection, record, _proxy) -> None:
        last = record.info.get("used_at")
        now = time.monotonic()
        record.info["used_at"] = now
        if last is not None and now - last < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"connection idle {now - (last or now):.0f} s is gone: {exc}") from exc

    event.listen(engine, "connect", note_use)
    event.listen(engine, "checkin", note_use)
    event.listen(engine, "checkout", check)
