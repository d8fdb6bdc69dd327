"""merchants (周边商户): the 15-minute life circle: a directory of local merchants, coupons and redemption.

Public surface: (being built).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing yet: the package is being built."""
