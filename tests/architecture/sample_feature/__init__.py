"""A feature that exists only in the architecture test: one package, plugged in through init_app alone."""

from __future__ import annotations

from flask import Flask, jsonify

from app.chat import menu
from app.chat.dialog import register_answer
from app.community.demo import add_step
from app.core import periodic
from console.auth import require_role
from console.blueprint import bp as console_bp
from console.nav import add_nav
from miniprogram_api.openapi import api_route

SEEDED: list[int] = []


def seed(session, community) -> None:
    """Remember which community the demo seed ran for."""
    SEEDED.append(community.id)


def ping(session) -> str:
    """A periodic job."""
    return "pong"


def _answer(turn) -> str:
    return "样例功能：收到"


@console_bp.get("/sample-feature")
@require_role("admin")
def sample_page():
    """A console page."""
    return "样例页面"


@api_route("/sample-feature", summary="样例接口", auth=False, tags=("sample",))
def sample_api():
    """An API route."""
    return jsonify({"ok": True})


def init_app(app: Flask) -> None:
    """Everything a feature registers: menu line, one-turn answer, periodic job, seed step, console menu."""
    menu.add_line("sample", 95, "样例：如“样例”")
    register_answer("sample_intent", _answer)
    periodic.every("sample_feature.ping", "low", interval=3600)
    add_step(seed)
    add_nav("console.sample_page", "样例", ("admin",))
