"""What a feature package needs to plug itself in at init_app: its templates folder."""

from __future__ import annotations

from flask import Blueprint, Flask


def add_templates(app: Flask, package: str) -> None:
    """Let render_template find `<package>/templates/` (through a blueprint that carries only templates)."""
    name = package.replace(".", "_") + "_templates"
    if name not in app.blueprints:
        app.register_blueprint(Blueprint(name, package, template_folder="templates"))
