"""miniprogram_api: the door for the mini-program: the /api/v1 blueprint, token auth, request checks
and the OpenAPI document built from the routes.

Features declare their routes in their own packages (`app/<feature>/api.py`) with `@api_route(...)`,
whose `body=` and `query=` are pydantic models built from miniprogram_api.validation (Body, Query,
Text, RequiredText, Id, ...), and `current_openid()`; this door imports no feature. The OpenAPI test fails for any
route not declared through api_route.
"""

from __future__ import annotations

from flask import Flask

from miniprogram_api.blueprint import PREFIX, bp
from miniprogram_api.openapi import api_route, build_document
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref
from miniprogram_api.tokens import current_openid, issue_token
from miniprogram_api.validation import Body, Query

__all__ = [
    "COMPONENTS", "ERROR_RESPONSES", "PREFIX", "Body", "Query", "api_route", "bp", "build_document",
    "current_openid", "init_app", "issue_token", "ref",
]


def init_app(app: Flask) -> None:
    """Register the /api/v1 blueprint (the features' routes are attached to it by then)."""
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
