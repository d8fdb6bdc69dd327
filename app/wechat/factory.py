"""One client per app and per WeChat account, built from config and reused (keep-alive HTTP)."""

from __future__ import annotations

import threading

from flask import Flask

from app.core.redis_conn import get_redis
from app.wechat.client import OfficialAccountClient, WeComClient

_build_lock = threading.Lock()


def _cache(app: Flask) -> dict:
    return app.extensions.setdefault("wechat_clients", {})


def _options(app: Flask) -> dict:
    return {
        "redis_client": get_redis(app),
        "base_url": app.config.get("WECHAT_API_BASE_URL"),
        "timeout": float(app.config.get("WECHAT_TIMEOUT", 5.0)),
        "max_retries": int(app.config.get("WECHAT_MAX_RETRIES", 2)),
        "backoff": float(app.config.get("WECHAT_RETRY_BACKOFF", 0.5)),
        # seconds a send reuses the token it read from Redis (off in tests: each test flushes Redis)
        "token_cache": float(app.config.get("WECHAT_TOKEN_CACHE_SECONDS", 0 if app.testing else 5)),
    }


def build_oa_client(app: Flask, **overrides) -> OfficialAccountClient:
    """A new official-account client (tests use this to get independent clients)."""
    opts = {**_options(app), **overrides}
    return OfficialAccountClient(app.config["WECHAT_APP_ID"], app.config["WECHAT_APP_SECRET"], **opts)


def build_wxa_client(app: Flask, **overrides) -> OfficialAccountClient:
    """A new mini-program client."""
    opts = {**_options(app), **overrides}
    return OfficialAccountClient(app.config["WXA_APP_ID"], app.config["WXA_APP_SECRET"], **opts)


def wecom_configured(app: Flask) -> bool:
    """Whether WECOM_CORP_ID, WECOM_SECRET and WECOM_AGENT_ID are all set."""
    return all(app.config.get(k) for k in ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_AGENT_ID"))


def build_wecom_client(app: Flask, **overrides) -> WeComClient | None:
    """A new WeChat Work client, or None when WeChat Work is not configured."""
    if not wecom_configured(app):
        return None
    opts = {**_options(app), **overrides}
    return WeComClient(app.config["WECOM_CORP_ID"], app.config["WECOM_SECRET"],
                       int(app.config["WECOM_AGENT_ID"]), **opts)


def _cached(app: Flask, name: str, build):
    cache = _cache(app)
    if name not in cache:
        with _build_lock:
            if name not in cache:
                cache[name] = build(app)
    return cache[name]


def oa_client(app: Flask) -> OfficialAccountClient:
    """The app's official-account client."""
    return _cached(app, "oa", build_oa_client)


def wxa_client(app: Flask) -> OfficialAccountClient:
    """The app's mini-program client."""
    return _cached(app, "wxa", build_wxa_client)


def wecom_client(app: Flask) -> WeComClient | None:
    """The app's WeChat Work client, or None when it is not configured."""
    if not wecom_configured(app):
        return None
    return _cached(app, "wecom", build_wecom_client)
