"""A lean HTTP/1.1 keep-alive server for FakeWeChat (benchmarks): asyncio, no WSGI, no per-request logging.

It parses just what the fake needs (request line, Content-Length, Connection) and answers through
FakeWeChat.handle, so tokens, injected failures and recorded calls behave as under werkzeug.
"""

from __future__ import annotations

import asyncio
import socket
import threading

from fakewechat.app import FakeWeChat, parse_query

MAX_HEADER = 64 * 1024
REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 411: b"Length Required"}


class _Connection(asyncio.Protocol):
    """One client connection: requests may arrive split or pipelined; answers go out in order."""

    def __init__(self, fake: FakeWeChat) -> None:
        self.fake = fake
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER:
                    self._reply(400, b'{"errcode":-1,"errmsg":"header too large"}', close=True)
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length, close, chunked = 0, False, False
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip() or 0)
                elif name == "connection":
                    close = value.strip().lower() == "close"
                elif name == "transfer-encoding":
                    chunked = True
            if chunked:  # WeChat clients send Content-Length; this fake does not speak chunked
                self._reply(411, b'{"errcode":-1,"errmsg":"length required"}', close=True)
                return
            if len(self.buffer) < end + 4 + length:
                return  # the body is still on its way
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            try:
                method, target, _version = head[0].split(" ", 2)
            except ValueError:
                self._reply(400, b'{"errcode":-1,"errmsg":"bad request line"}', close=True)
                return
            path, _, query = target.partition("?")
            status, payload = self.fake.handle(method, path, parse_query(query), body)
            self._reply(status, payload, close=close)

    def _reply(self, status: int, payload: bytes, *, close: bool) -> None:
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
            b"Connection: %s\r\n\r\n" % (status, REASONS.get(status, b"OK"), len(payload),
                                         b"close" if close else b"keep-alive") + payload)
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


class LeanServer:
    """FakeWeChat served by asyncio on host:port in a daemon thread; shutdown() stops it."""

    def __init__(self, fake: FakeWeChat, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(
            self.loop.create_server(lambda: _Connection(fake), host, port, backlog=1024, reuse_address=True))
        self.server_port: int = self.server.sockets[0].getsockname()[1]
        self.base_url = f"http://{host}:{self.server_port}"
        fake.base_url = self.base_url
        self.thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until shutdown()."""
        try:
            self.loop.run_forever()
        finally:
            self.server.close()
            self.loop.run_until_complete(self.server.wait_closed())
            self.loop.close()

    def start(self) -> LeanServer:
        """Serve in a daemon thread."""
        self.thread = threading.Thread(target=self.serve_forever, name="fakewechat-lean", daemon=True)
        self.thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving (from any thread)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(timeout=5)
