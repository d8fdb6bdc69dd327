"""bots: the door for residents on the official account: /wechat (checks, dedup, the handler registry,
the reply budget) and `flask chat`. Every text goes to the chat core (app.chat)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /wechat, the message handlers and `flask chat`."""
    from app.core import health  # noqa: PLC0415
    from bots import handlers  # noqa: F401, PLC0415 - registers the @on_message handlers
    from bots.drain import journal_command, journal_health  # noqa: PLC0415
    from bots.endpoint import bp  # noqa: PLC0415
    from bots.simulator import chat_command  # noqa: PLC0415
    from bots.stories_cli import stories_command  # noqa: PLC0415

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    app.cli.add_command(chat_command)
    app.cli.add_command(journal_command)
    app.cli.add_command(stories_command)
    health.add_check("wechat_journal", journal_health)
