"""bots: the WeChat official-account endpoint and dialog; init_app wires it into the app."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /wechat, the message handlers and `flask chat`."""
    from bots import handlers  # noqa: F401, PLC0415 - registers the @on_message handlers
    from bots.endpoint import bp  # noqa: PLC0415
    from bots.simulator import chat_command  # noqa: PLC0415

    app.register_blueprint(bp)
    from bots.wecom import bp as wecom_bp  # noqa: PLC0415 - staff answers from WeChat Work

    app.register_blueprint(wecom_bp)
    app.cli.add_command(chat_command)
