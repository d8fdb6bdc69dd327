"""console: an entry package; init_app wires it into the app."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's routes and commands."""
