"""`make run`: the app, an in-process worker and a fake WeChat API, on one laptop.

Runs after `flask db upgrade` and `flask seed-demo --if-empty`. Reads the environment once
(Config()); HOST / PORT choose where to listen (default 127.0.0.1:5000). With no
WECHAT_API_BASE_URL, the fake WeChat API is started on loopback and the app talks to it.
With no REDIS_URL (embedded mode), a ticker thread relays delayed jobs and runs periodic ones.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from werkzeug.serving import make_server

from app import create_app
from config import Config


def _banner(base: str, fake_url: str | None, embedded: bool, database: str) -> str:
    lines = [
        f"linli 邻里 dev server on {base}",
        f"  WeChat endpoint      {base}/wechat",
        f"  mini-program API     {base}/api/v1/openapi.json",
        f"  staff console        {base}/console/",
        f"  health / readiness   {base}/healthz  {base}/readyz",
        f"  fake WeChat API      {fake_url}" if fake_url
        else "  WeChat API           (WECHAT_API_BASE_URL from the environment)",
        f"  database             {database}",
        "  jobs                 " + ("in-process (embedded mode, no REDIS_URL)" if embedded
                                    else "on Redis: run `flask --app wsgi worker` and `flask --app wsgi cron`"),
        "  try the bot:         .venv/bin/flask --app wsgi chat   (then type e.g. 30栋2单元1201 水管漏水)",
        "Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def _remember_fake(fake_url: str) -> None:
    """Leave the fake's address where `flask chat` finds it, to show what reaches residents later."""
    from config import INSTANCE_DIR  # noqa: PLC0415

    INSTANCE_DIR.mkdir(exist_ok=True)
    (INSTANCE_DIR / "fakewechat.url").write_text(fake_url, encoding="utf-8")


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def main() -> int:
    """Build the app, start the fake WeChat and the embedded ticker as needed, and serve."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = os.environ.get("HOST") or "127.0.0.1"
    port = int(os.environ.get("PORT") or "5000")
    config = Config()

    fake_server, fake_url = None, None
    if not config.WECHAT_API_BASE_URL:
        from fakewechat import serve_in_thread  # noqa: PLC0415 - only when no real WeChat is configured

        fake_server, fake_url = serve_in_thread(0)
        config.WECHAT_API_BASE_URL = fake_url
        _remember_fake(fake_url)

    app = create_app(config)
    ticker = None
    if config.embedded:
        from workers.embedded import start_embedded_ticker  # noqa: PLC0415

        ticker = start_embedded_ticker(app)

    server = make_server(host, port, app, threaded=True)
    base = f"http://{host}:{server.server_port}"
    print(_banner(base, fake_url, config.embedded, config.SQLALCHEMY_DATABASE_URI), flush=True)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        if ticker:
            ticker.stop()
        if fake_server:
            fake_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
