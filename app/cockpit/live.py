"""The live feed as server-sent events: new alarms and escalations within a poll interval (2 s by default),
and a "figures" event when the snapshot behind the page was refreshed.

A stream holds no database connection: each poll opens a session on the engine, runs three indexed reads
(new alarms, new escalations, the snapshot's time) and closes it. A stream ends after `duration` seconds
(default 50) and the browser reconnects with Last-Event-ID, so a gunicorn thread is never pinned for long
and no alarm raised in between is lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.cockpit.device_figures import alarm_event, escalation_event
from app.cockpit.models import Snapshot
from app.cockpit.present import describe

POLL_SECONDS = 2.0
DURATION_SECONDS = 50.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000  # how soon the browser reconnects after a drop
BATCH = 50


@dataclass(frozen=True)
class Cursor:
    """The newest alarm and escalation ids a screen has seen."""

    alarm: int = 0
    escalation: int = 0

    def text(self) -> str:
        """As sent in the SSE id line (and back in Last-Event-ID)."""
        return f"a{self.alarm}.e{self.escalation}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """A cursor from Last-Event-ID; None when missing or malformed."""
        try:
            a, e = (text or "").split(".")
            if a[0] == "a" and e[0] == "e":
                return cls(max(0, int(a[1:])), max(0, int(e[1:])))
        except (ValueError, IndexError):
            pass
        return None


@dataclass(frozen=True)
class Sources:
    """Which feeds exist (their features are installed and their tables are there)."""

    alarms: bool
    escalations: bool


def newest(session: Session, sources: Sources) -> Cursor:
    """The cursor at the present moment: a new screen starts from here."""
    from app.devices.models import Alarm  # noqa: PLC0415 - only read when devices are installed
    from app.escalations.models import Escalation  # noqa: PLC0415

    return Cursor(session.scalar(select(func.max(Alarm.id))) or 0 if sources.alarms else 0,
                  session.scalar(select(func.max(Escalation.id))) or 0 if sources.escalations else 0)


def new_events(session: Session, sources: Sources, community_ids: list[int],
               cursor: Cursor) -> tuple[list[dict], Cursor]:
    """Alarms and escalations of these communities after the cursor, oldest first, and the cursor after them."""
    events: list[dict] = []
    alarm_id, escalation_id = cursor.alarm, cursor.escalation
    if sources.alarms:
        from app.devices.models import Alarm  # noqa: PLC0415

        for alarm in session.scalars(select(Alarm).where(Alarm.id > cursor.alarm, Alarm.community_id.in_(community_ids))
                                     .order_by(Alarm.id).limit(BATCH)):
            events.append(alarm_event(alarm))
            alarm_id = alarm.id
    if sources.escalations:
        from app.escalations.models import Escalation  # noqa: PLC0415

        for escalation in session.scalars(select(Escalation).where(
                Escalation.id > cursor.escalation, Escalation.community_id.in_(community_ids))
                .order_by(Escalation.id).limit(BATCH)):
            events.append(escalation_event(escalation))
            escalation_id = escalation.id
    return events, Cursor(alarm_id, escalation_id)


def snapshot_mark(session: Session, community_ids: list[int]) -> str | None:
    """When the newest of these communities' snapshots was computed (changes when the job refreshes)."""
    at = session.scalar(select(func.max(Snapshot.computed_at)).where(Snapshot.community_id.in_(community_ids)))
    return at.isoformat() if at else None


def message(event: str, data: dict, cursor: Cursor | None = None) -> str:
    """One server-sent event."""
    head = f"id: {cursor.text()}\n" if cursor is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream(engine: Engine, *, sources: Sources, community_ids: list[int], cursor: Cursor,
           allowed: Callable[[Session], bool], poll: float = POLL_SECONDS, duration: float = DURATION_SECONDS,
           heartbeat: float = HEARTBEAT_SECONDS) -> Iterator[str]:
    """The event stream: new alarms and escalations, figures refreshed, a heartbeat; ends when `allowed`
    says no (a revoked token) or after `duration` seconds."""
    started = last_beat = time.monotonic()
    mark = None
    yield f"retry: {RETRY_MS}\n" + message("hello", {"cursor": cursor.text()}, cursor)
    while True:
        with Session(engine) as session:
            if not allowed(session):
                yield message("revoked", {"message": "此大屏链接已停用"})
                return
            events, cursor = new_events(session, sources, community_ids, cursor)
            latest = snapshot_mark(session, community_ids)
        for event in events:
            yield message(event["kind"], describe(event), cursor)
        if latest != mark:
            if mark is not None:
                yield message("figures", {"computed_at": latest}, cursor)
            mark = latest
        now = time.monotonic()
        if now - started >= duration:
            yield message("bye", {"reconnect_ms": RETRY_MS}, cursor)
            return
        if now - last_beat >= heartbeat:
            last_beat = now
            yield ": ping\n\n"
        time.sleep(poll)
