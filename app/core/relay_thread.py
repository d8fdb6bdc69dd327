"""The outbox relay off the request thread: after a commit that wrote jobs, a request only wakes its
process's relay thread, which pushes the rows to RQ; the resident's answer does not wait for Redis.

Nothing can be lost by this: the rows are committed before the thread is woken, and the workers' periodic
relay (workers.jobs.relay_outbox) hands over whatever a process left behind when it died. One thread per
process, started on first use, so a gunicorn worker forked from a preloaded master starts its own.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask

log = logging.getLogger(__name__)


class Relayer:
    """A daemon thread that runs the outbox relay whenever it is woken."""

    def __init__(self, app: Flask, relay) -> None:
        self.app, self.relay = app, relay
        self.pid = os.getpid()
        self.due = threading.Event()
        self.passes = 0
        self.thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self.thread.start()

    def wake(self) -> None:
        """Ask for a relay pass soon."""
        self.due.set()

    def _run(self) -> None:
        while True:
            self.due.wait()  # a wake-up that came while a pass ran is kept by the event: nothing is missed
            self.due.clear()
            try:
                with self.app.app_context():
                    self.relay(self.app)
            except Exception:  # a failed pass leaves the rows pending; the next wake or the workers retry
                log.exception("outbox relay thread: pass failed")
            self.passes += 1


_relayers: dict[int, Relayer] = {}
_lock = threading.Lock()


def wake(app: Flask, relay) -> Relayer:
    """Wake this process's relay thread for app (starting it the first time, or after a fork)."""
    key = id(app)
    relayer = _relayers.get(key)
    if relayer is None or relayer.pid != os.getpid() or not relayer.thread.is_alive():
        with _lock:
            relayer = _relayers.get(key)
            if relayer is None or relayer.pid != os.getpid() or not relayer.thread.is_alive():
                relayer = _relayers[key] = Relayer(app, relay)
    relayer.wake()
    return relayer
