"""binding: a WeChat user (official account or mini-program) recognised as a roster resident:
binding requests, staff review, codes, the mini-program's login and its /me.

Public surface: bindings (start_binding, confirm_binding, resident_for_openid, pending_bindings).
"""

from __future__ import annotations

from flask import Flask

from app.core import periodic
from app.core.features import add_templates
from console.dashboard import Tile, add_tile
from miniprogram_api.tokens import add_token_check


def init_app(app: Flask) -> None:
    """The binding models, the review page, the mini-program's login and /me, and expiry."""
    from app.binding import console, login_api, me_api, models  # noqa: F401, PLC0415 - routes attach on import
    from app.binding.bindings import pending_bindings  # noqa: PLC0415

    add_tile(Tile("pending", "待审核绑定", lambda session, staff: len(pending_bindings(session, staff)),
                  roles=("admin", "property"), endpoint="console.bindings"))
    from app.binding.bindings import token_version_holds  # noqa: PLC0415
    from app.core.db import db  # noqa: PLC0415

    add_token_check(lambda openid, version: token_version_holds(db.session, openid, version))
    add_templates(app, __name__)
    periodic.every("app.binding.jobs.expire_bindings", "low", interval=600)
