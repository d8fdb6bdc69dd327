"""gunicorn settings read from the working directory: `gunicorn wsgi:app` picks these up."""

preload_app = True  # build the app once in the master; workers share its memory after fork


def when_ready(server):
    """Load the parser's dictionaries (over a second) before forking, not in a resident's first request."""
    from nlp import parse

    parse("你好")
