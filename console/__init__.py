"""console: the door for staff: the /console blueprint, sign-in, CSRF, layout, navigation and the
dashboard. Features attach their pages to its blueprint and menu; the console imports no feature."""

from __future__ import annotations

from flask import Flask

from console.nav import NAV, NavItem, add_nav

__all__ = ["NAV", "NavItem", "add_nav", "init_app"]


def init_app(app: Flask) -> None:
    """Register the console blueprint (with the features' pages attached), cookie settings and error pages."""
    from console import auth, errors, jobs, places, views  # noqa: F401, PLC0415 - modules attach routes to bp
    from console.blueprint import bp  # noqa: PLC0415

    # Harden the session cookie unless the deployment chose otherwise (Secure is set per environment).
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    errors.init_app(app)
