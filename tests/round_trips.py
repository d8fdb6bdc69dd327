"""Counting what one request sends to the database: statements, BEGIN, savepoints and COMMIT.

On PostgreSQL each of these is one network round trip (psycopg sends BEGIN on its own before the
first statement of a transaction); tests pin the count per common chat turn so it cannot creep back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class RoundTrips:
    """What went to the database, in order."""

    sent: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.sent)

    def __str__(self) -> str:
        return f"{self.count} round trips: " + " | ".join(s[:60] for s in self.sent)


@contextmanager
def counting(engine: Engine) -> Iterator[RoundTrips]:
    """Record every round trip on the engine inside the block."""
    trips = RoundTrips()

    def statement(conn, cursor, sql, params, context, executemany):
        trips.sent.append(" ".join(sql.split()))

    def begin(conn):
        trips.sent.append("BEGIN")

    def commit(conn):
        trips.sent.append("COMMIT")

    def rollback(conn):
        trips.sent.append("ROLLBACK")

    def savepoint(conn, name):
        trips.sent.append("SAVEPOINT")

    def release(conn, name, context):
        trips.sent.append("RELEASE")

    hooks = [("before_cursor_execute", statement), ("begin", begin), ("commit", commit),
             ("rollback", rollback), ("savepoint", savepoint), ("release_savepoint", release)]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    dialect = engine.dialect
    ping = dialect.do_ping  # a liveness check of a pooled connection is a round trip too

    def counted_ping(dbapi_connection):
        trips.sent.append("PING")
        return ping(dbapi_connection)

    dialect.do_ping = counted_ping
    try:
        yield trips
    finally:
        del dialect.do_ping
        for name, hook in hooks:
            event.remove(engine, name, hook)
