"""Keeping /wechat messages in the journal while the database is down, and handling them when it is back.

The resident is told at once that the message arrived and the answer will follow; when the database
answers again, each kept message is stored and handled as if it had just arrived (at the time it
did), and its reply goes out as a customer-service message. A drainer thread in each web process
looks at the journal every few seconds; `flask wechat-journal drain` does the same by hand.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

import click
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from app.chat import nonces
from app.chat.conversations import message_by_dedup_key
from app.core.clock import local_now
from app.core.db import db
from bots.dispatch import NotStored, database_down, handle_late
from bots.journal import Journal
from bots.registry import BadInbound, Inbound
from bots.security import ReplayUnchecked

log = logging.getLogger(__name__)
JOURNALED = "收到您的消息了。系统正在恢复，处理好后会在这里回复您，请不必重发。"
DRAIN_EVERY = 2.0  # seconds between looks at the journal
_drainers: dict[int, Drainer] = {}
_drainers_lock = threading.Lock()


def journal_for(app: Flask) -> Journal:
    """The app's journal (WECHAT_JOURNAL_DIR)."""
    return Journal(app.config["WECHAT_JOURNAL_DIR"])


def journal_health(app: Flask) -> str:
    """/readyz's line for the journal: how many messages wait to be stored or were set aside for an operator
    (neither stops the process from serving; a journal that cannot be written to does)."""
    journal = journal_for(app)
    waiting, set_aside = journal.backlog(), journal.failed_count()
    if not journal.writable():
        return "not writable: messages could be lost while the database is down"
    parts = [f"{waiting} waiting to be stored"] if waiting else []
    parts += [f"{set_aside} set aside for an operator (flask wechat-journal)"] if set_aside else []
    return f"ok ({'; '.join(parts)})" if parts else "ok"


def keep(app: Flask, inbound: Inbound, unchecked: ReplayUnchecked | None = None) -> None:
    """Write a message that could not be stored to the journal (durably), and make sure a drainer runs."""
    record = {
        "v": 1, "channel": inbound.channel, "received_at": inbound.now.isoformat(), "data": inbound.data,
        "replay": None if unchecked is None else {"key": unchecked.key, "digest": unchecked.digest,
                                                 "ttl": unchecked.ttl},
    }
    path = journal_for(app).append(record)
    log.warning("wechat: database unavailable, %s kept in the journal as %s", inbound.dedup_key, path.name)
    if app.config.get("WECHAT_JOURNAL_DRAINER", True):
        start_drainer(app)


@dataclass
class DrainResult:
    """What one drain pass did."""

    handled: int = 0
    duplicates: int = 0
    replays: int = 0
    set_aside: int = 0
    left: int = 0


def drain(app: Flask) -> DrainResult:
    """Handle every kept message, oldest first, until the journal is empty or the database fails again."""
    journal = journal_for(app)
    result = DrainResult()
    with journal.draining() as holder:
        if not holder:  # another thread or process is draining
            result.left = journal.backlog()
            return result
        entries = journal.entries()
        for index, path in enumerate(entries):
            record = journal.read(path)
            if record is None:
                continue
            try:
                outcome = _handle_entry(app, record)
            except NotStored:
                result.left = len(entries) - index
                log.info("wechat journal: database still unavailable, %d message(s) wait", result.left)
                return result
            except (BadInbound, KeyError, TypeError, ValueError) as exc:
                journal.set_aside(path, f"{type(exc).__name__}: {exc}")
                result.set_aside += 1
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
            journal.remove(path)
    if result.handled or result.duplicates or result.replays:
        log.warning("wechat journal drained: %s", result)
    return result


def _handle_entry(app: Flask, record: dict) -> str:
    """Store and answer one kept message; returns the DrainResult field it counts under."""
    with app.app_context():
        session = db.session
        try:
            inbound = Inbound.from_fields(record["data"], channel=record["channel"],
                                          now=datetime.fromisoformat(record["received_at"]))
            if record.get("replay"):
                replay = record["replay"]
                if nonces.remember(replay["key"], replay["digest"], int(replay["ttl"])) == nonces.REPLAY:
                    log.warning("wechat journal: %s was a replay (same signature, other body): dropped",
                                inbound.dedup_key)
                    return "replays"
            if message_by_dedup_key(session, inbound.dedup_key) is not None:  # a retry got through later
                session.rollback()
                return "duplicates"
            handle_late(session, inbound)
            return "handled"
        except IntegrityError:  # stored meanwhile by WeChat's retry or another drainer
            session.rollback()
            return "duplicates"
        except NotStored:
            raise
        except Exception as exc:
            session.rollback()
            if database_down(exc):
                raise NotStored(record.get("channel", "")) from exc
            raise
        finally:
            session.remove()


class Drainer(threading.Thread):
    """Drain the journal every few seconds while it holds anything; one per web process."""

    def __init__(self, app: Flask, every: float = DRAIN_EVERY) -> None:
        super().__init__(name="wechat-journal", daemon=True)
        self.app, self.every = app, every
        self.stopped = threading.Event()

    def run(self) -> None:
        journal = journal_for(self.app)
        while not self.stopped.wait(self.every):
            if journal.backlog():
                try:
                    drain(self.app)
                except Exception:  # the loop must outlive whatever one pass meets
                    log.exception("wechat journal: drain pass failed")

    def stop(self) -> None:
        """End the loop after its current pass."""
        self.stopped.set()


def resume_once(app: Flask) -> None:
    """On a process's first message, start the drainer if an earlier process left messages waiting."""
    if id(app) in _resumed:
        return
    _resumed.add(id(app))
    if app.config.get("WECHAT_JOURNAL_DRAINER", True) and journal_for(app).backlog():
        start_drainer(app)


_resumed: set[int] = set()


def start_drainer(app: Flask) -> Drainer:
    """The process's drainer for this app, started if it is not running."""
    with _drainers_lock:
        drainer = _drainers.get(id(app))
        if drainer is None or not drainer.is_alive():
            drainer = _drainers[id(app)] = Drainer(app)
            drainer.start()
        return drainer


@click.group("wechat-journal")
def journal_command() -> None:
    """The /wechat journal: messages kept on disk while the database was down."""


@journal_command.command("status")
def journal_status() -> None:
    """How many messages wait, and how many were set aside."""
    journal = journal_for(current_app)
    click.echo(f"waiting: {journal.backlog()}  set aside: {journal.failed_count()}  ({journal.root})")


@journal_command.command("drain")
def journal_drain() -> None:
    """Handle the waiting messages now."""
    result = drain(current_app._get_current_object())
    click.echo(f"handled {result.handled}, duplicates {result.duplicates}, replays {result.replays}, "
               f"set aside {result.set_aside}, still waiting {result.left} (at {local_now():%H:%M:%S})")
