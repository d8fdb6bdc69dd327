"""fakewechat: a loopback stand-in for WeChat's HTTP API, for tests and local runs."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server

from fakewechat.app import Call, FakeWeChat
from fakewechat.lean import LeanServer

__all__ = ["Call", "FakeWeChat", "LeanServer", "serve_in_thread", "serve_lean_in_thread"]


def serve_in_thread(port: int = 0, fake: FakeWeChat | None = None,
                    host: str = "127.0.0.1") -> tuple[BaseWSGIServer, str]:
    """Serve a FakeWeChat on host:port in a daemon thread; returns (server, base_url)."""
    fake = fake or FakeWeChat()
    server = make_server(host, port, fake, threaded=True)
    base_url = f"http://{host}:{server.server_port}"
    fake.base_url = base_url
    server.fake = fake  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, name="fakewechat", daemon=True).start()
    return server, base_url


def serve_lean_in_thread(port: int = 0, fake: FakeWeChat | None = None,
                         host: str = "127.0.0.1") -> tuple[LeanServer, str]:
    """Serve a FakeWeChat on the lean asyncio keep-alive server in a daemon thread (benchmarks)."""
    server = LeanServer(fake or FakeWeChat(), host, port).start()
    return server, server.base_url
