"""python -m fakewechat --port 8700: serve the fake WeChat API standalone."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from fakewechat.app import FakeWeChat
from fakewechat.lean import LeanServer


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="fakewechat", description="Fake WeChat API on loopback")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--lean", action="store_true", help="the lean asyncio server, counting calls only")
    args = parser.parse_args(argv)
    if args.lean:
        server = LeanServer(FakeWeChat(record=False), args.host, args.port)
        print(f"fake WeChat API (lean) on {server.base_url}", flush=True)
        server.serve_forever()
        return
    fake = FakeWeChat()
    fake.base_url = f"http://{args.host}:{args.port}"
    print(f"fake WeChat API on {fake.base_url}", flush=True)
    run_simple(args.host, args.port, fake, threaded=True)


if __name__ == "__main__":
    main()
