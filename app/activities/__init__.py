"""activities (社区活动): interest clubs, activities with sign-up, waitlist and check-in.

Public surface: (being built).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing yet: the package is being built."""
