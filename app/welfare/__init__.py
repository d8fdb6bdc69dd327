"""welfare (独居老人关怀): residents living alone watched for signs of life; a steward visits when there are none.

Public surface: (being built).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing yet: the package is being built."""
