"""gunicorn settings read from the working directory: `gunicorn wsgi:app` picks these up."""

import os

preload_app = True  # build the app once in the master; workers share its memory after fork
# Processes over threads: the turn is CPU-bound Python between short database waits, so threads of one
# worker queue on its GIL. On 2 cores (bench/wechat_roundtrip.py, 16 connections, 3 runs of 10 s each,
# 2026-12-03): 2 workers x 8 threads 156 req/s, p99 477 ms; 4 sync 172 / 373; 4 x 4 212 / 272;
# 6 x 2 223 / 264; 4 x 8 206 / 570. So 3 workers per core, 2 threads each (a thread waits on the
# database while the other runs); ~190 MB resident per worker, most of it shared after the fork.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", 3 * (os.cpu_count() or 1)))
threads = int(os.environ.get("WEB_THREADS", 2))


def when_ready(server):
    """Load the parser's dictionaries (over a second) before forking, not in a resident's first request."""
    import gc

    from nlp import parse

    parse("你好")
    # Everything loaded so far (the app, SQLAlchemy's mappers, the parser's tables: ~170,000
    # objects) lives as long as the process. Freezing it keeps the workers' full collections from
    # walking it (a ~70 ms pause in every thread of a worker) and from dirtying the pages the
    # workers share with the master (Python's gc.freeze docs, Instagram's preload-fork advice).
    gc.collect()
    gc.freeze()
