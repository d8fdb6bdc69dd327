"""`python -m workers [worker|cron] [--queues high,default,low] [--burst]`: build the app once, then run."""

from __future__ import annotations

import argparse
import logging
import sys

from workers.runner import WorkerStartError, parse_queues, run_cron, run_worker


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the app from the environment and run the worker or the cron scheduler."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__)
    parser.add_argument("role", nargs="?", choices=("worker", "cron"), default="worker")
    parser.add_argument("--queues", default="high,default,low")
    parser.add_argument("--burst", action="store_true", help="process what is queued, then exit")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from app import create_app  # noqa: PLC0415 - nothing is built at import time

    try:
        queues = parse_queues(options.queues)
        app = create_app()
        if options.role == "cron":
            run_cron(app)
        else:
            run_worker(app, queues, burst=options.burst)
    except (WorkerStartError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
