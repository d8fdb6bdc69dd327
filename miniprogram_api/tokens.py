"""Our own signed API tokens for mini-program users (WeChat's session_key never leaves the server)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.core.errors import Unauthorized

SALT = "linli-wxa-api-token"
# (openid, version in the token) -> whether that version still holds; the binding feature registers
# the check against its stored token version, so a resident's tokens can be revoked
TokenCheck = Callable[[str, int], bool]
_checks: dict[str, TokenCheck] = {}


def add_token_check(check: TokenCheck) -> None:
    """Ask check(openid, version) on every authenticated request; False refuses the token (revoked)."""
    _checks[f"{check.__module__}.{check.__qualname__}"] = check


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def max_age() -> int:
    """Seconds a token stays valid (API_TOKEN_MAX_AGE)."""
    return int(current_app.config["API_TOKEN_MAX_AGE"])


def issue_token(openid: str, version: int = 1) -> str:
    """A signed, timestamped token naming the mini-program openid and its token version."""
    return _serializer().dumps({"openid": openid, "v": version})


def authenticate(header: str | None) -> str:
    """The openid in a `Bearer <token>` header; Unauthorized when missing, forged or expired."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("请先登录", code="token_missing")
    try:
        data = _serializer().loads(token.strip(), max_age=max_age())
    except SignatureExpired as exc:
        raise Unauthorized("登录已过期，请重新进入小程序", code="token_expired") from exc
    except BadSignature as exc:
        raise Unauthorized("登录信息无效，请重新进入小程序", code="token_invalid") from exc
    openid = data.get("openid") if isinstance(data, dict) else None
    if not isinstance(openid, str) or not openid:
        raise Unauthorized("登录信息无效，请重新进入小程序", code="token_invalid")
    version = data.get("v", 1)
    if not isinstance(version, int) or not all(check(openid, version) for check in _checks.values()):
        raise Unauthorized("登录已失效，请重新进入小程序", code="token_revoked")
    return openid


def current_openid() -> str:
    """The mini-program openid of the authenticated request."""
    return g.api_openid
