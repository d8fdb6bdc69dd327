"""CSRF protection for the console: one random token per session, checked on every unsafe request."""

from __future__ import annotations

import secrets

from flask import request, session

from app.core.errors import BadRequest

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfFailed(BadRequest):
    """A form or API call arrived without this session's token: most likely a stale page or a forged post."""

    code, message = "csrf_failed", "页面已过期或请求来源不明，请刷新页面后重试"


def csrf_token() -> str:
    """This session's token, created on first use; templates put it in every form."""
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def rotate_token() -> str:
    """A fresh token, issued at login so a token seen before login is worthless after it."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def check_csrf() -> None:
    """Raise CsrfFailed unless an unsafe request carries the session's token (form field or header)."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(SESSION_KEY)
    sent = request.headers.get(HEADER) or request.form.get(FORM_FIELD) or ""
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed()
