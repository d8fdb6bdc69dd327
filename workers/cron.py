"""The periodic jobs the features registered (app.core.periodic), as one RQ CronScheduler.

`flask cron` runs this scheduler on Redis; in embedded mode the ticker in workers/embedded.py runs
the same registrations in-process. Run exactly one `flask cron` process per Redis: each scheduler
enqueues every registered job.
"""

from __future__ import annotations

import socket
import uuid

from redis import Redis
from rq.cron import CronScheduler
from rq.utils import import_attribute

from app.core import periodic


def load_cron(connection: Redis) -> CronScheduler:
    """An RQ CronScheduler holding every registered periodic job."""
    scheduler = CronScheduler(connection=connection, name=f"linli-cron-{socket.gethostname()}-{uuid.uuid4().hex[:6]}")
    for entry in periodic.registered():
        scheduler.register(import_attribute(entry.func), entry.queue, interval=entry.interval, cron=entry.cron)
    return scheduler
