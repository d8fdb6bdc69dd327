"""workers: an entry package; init_app wires its commands (`flask worker`, `flask cron`) into the app."""

from __future__ import annotations

import click
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    """Register this package's commands and its own periodic job (the outbox backstop)."""
    from app.core import periodic  # noqa: PLC0415

    periodic.every("workers.jobs.relay_outbox", "high", interval=60)  # rows a Redis outage left pending
    periodic.every("workers.jobs.reconcile_outbox", "low", interval=300)  # jobs a Redis restart lost

    @app.cli.command("worker")
    @click.option("--queues", default="high,default,low", show_default=True,
                  help="Comma-separated queues, highest priority first.")
    @click.option("--burst", is_flag=True, help="Process what is queued, then exit.")
    def worker_command(queues: str, burst: bool) -> None:
        """Run an RQ worker (scheduler on) with an outbox relay thread."""
        from workers.runner import WorkerStartError, parse_queues, run_worker  # noqa: PLC0415

        try:
            names = parse_queues(queues)
            run_worker(current_app._get_current_object(), names, burst=burst)
        except (WorkerStartError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc

    @app.cli.command("cron")
    def cron_command() -> None:
        """Run RQ's cron scheduler with the periodic jobs of workers/cron.py (one per Redis)."""
        from workers.runner import WorkerStartError, run_cron  # noqa: PLC0415

        try:
            run_cron(current_app._get_current_object())
        except WorkerStartError as exc:
            raise click.ClickException(str(exc)) from exc
