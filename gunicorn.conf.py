"""gunicorn settings read from the working directory: `gunicorn wsgi:app` picks these up."""

preload_app = True  # build the app once in the master; workers share its memory after fork


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
