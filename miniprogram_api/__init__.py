"""miniprogram_api: the mini-program's JSON API under /api/v1, with its OpenAPI document.

To add routes (repairs, wishes, parking, bookings): write `miniprogram_api/views_<topic>.py`
using `@api_route(...)`, `json_body()`, `current_openid()` / `current_resident()`, and add
the module name to ROUTE_MODULES. The OpenAPI test fails for any route not declared so.
"""

from __future__ import annotations

import importlib

from flask import Flask

from miniprogram_api.blueprint import PREFIX, bp
from miniprogram_api.openapi import api_route, build_document, json_body
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref
from miniprogram_api.tokens import current_openid, issue_token

ROUTE_MODULES = ("views_auth", "views_me", "notifications", "tickets", "wishes")
ROUTE_MODULES += ("parking", "parking_events")
ROUTE_MODULES += ("clinic",)

__all__ = [
    "COMPONENTS", "ERROR_RESPONSES", "PREFIX", "ROUTE_MODULES", "api_route", "bp", "build_document",
    "current_openid", "current_resident", "init_app", "issue_token", "json_body", "ref",
]


def current_resident():
    """The bound resident of this request (403 not_bound otherwise)."""
    from miniprogram_api.views_me import current_resident as _current  # noqa: PLC0415

    return _current()


def init_app(app: Flask) -> None:
    """Import every route module, then register the /api/v1 blueprint."""
    for name in ROUTE_MODULES:
        importlib.import_module(f"miniprogram_api.{name}")
    app.register_blueprint(bp)
