"""Helpers for tests that drive the console through Flask's test client (used by later sections too)."""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from console.csrf import SESSION_KEY


def csrf_token(client: FlaskClient) -> str:
    """The client's console CSRF token; a GET of the login page creates one if needed."""
    with client.session_transaction() as sess:
        token = sess.get(SESSION_KEY)
    if not token:
        client.get("/console/login")
        with client.session_transaction() as sess:
            token = sess[SESSION_KEY]
    return token


def login(client: FlaskClient, username: str, password: str = "secret-pass", **extra: str) -> TestResponse:
    """Sign in through the real login form (with the CSRF token), returning the response."""
    data = {"username": username, "password": password, "csrf_token": csrf_token(client), **extra}
    return client.post("/console/login", data=data)


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs) -> TestResponse:
    """POST a console form with the session's CSRF token added."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client)}, **kwargs)
