"""cockpit (数字驾驶舱): one screen of the community's figures, live alarms and charts; a wall-screen mode.

Public surface: (being built).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing yet: the package is being built."""
