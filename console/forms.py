"""What a console form post does when a service refuses: undo, say why, and go back."""

from __future__ import annotations

from flask import flash
from werkzeug.wrappers import Response

from app.core.db import db
from app.core.errors import AppError


def refused(err: AppError, response: Response) -> Response:
    """Roll back the post's writes, flash the service's message, and answer with `response` (a redirect)."""
    db.session.rollback()
    flash(err.message, "error")
    return response
