"""WSGI entry point: the app built from the environment (gunicorn --preload wsgi:app)."""

from app import create_app
from nlp import parse

app = create_app()
parse("你好")  # load the dictionaries now, not in a resident's first request (shared after fork with --preload)
