"""WSGI entry point: the app built from the environment (gunicorn wsgi:app)."""

from app import create_app

app = create_app()
