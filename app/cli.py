"""Command-line tools of the core: roster import and the demo community."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the core's flask commands."""
