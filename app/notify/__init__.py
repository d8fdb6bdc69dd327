"""notify: every message to a resident, on the channel WeChat allows (customer-service message in
the 48-hour window, a granted subscribe message, a template message), with quiet hours, preferences,
digests and the mini-program's subscription grants.

Public surface: notify (notify, set_preferences, CATEGORIES), channels, interests.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The notification models and the mini-program's notification routes."""
    from app.notify import api, models  # noqa: F401, PLC0415 - routes attach on import
