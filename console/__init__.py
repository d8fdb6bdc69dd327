"""console: the staff web pages under /console; init_app wires it into the app."""

from __future__ import annotations

from flask import Flask

from console.nav import NAV, NavItem, add_nav

__all__ = ["NAV", "NavItem", "add_nav", "init_app"]


def init_app(app: Flask) -> None:
    """Register the console blueprint, its session-cookie settings, error pages and commands."""
    from console import (  # noqa: F401 - modules attach routes to bp
        auth,
        bindings,
        campaigns,
        cli,
        clinic,  # noqa: F401 - the doctor's residents, health files and bookings
        errors,
        inbox,
        parking,  # noqa: F401 - zones, charts and car notices
        tickets,
        views,
        wishes,
    )
    from console.blueprint import bp

    # Harden the session cookie unless the deployment chose otherwise (Secure is set per environment).
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(bp)
    errors.init_app(app)
    cli.init_app(app)
