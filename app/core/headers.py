"""Security headers on every response: no sniffing, no framing, a strict CSP on pages, and no
caching of anything that carries personal data (the console and the mini-program API)."""

from __future__ import annotations

from flask import Flask, Response, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
PERSONAL = ("/console", "/api/v1")  # every page and answer here may name a resident
CACHEABLE = ("/console/static/",)


def init_app(app: Flask) -> None:
    """Add the headers after every request."""

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", CSP)
        path = request.path
        if path.startswith(PERSONAL) and not path.startswith(CACHEABLE):
            headers["Cache-Control"] = "no-store"
        return response
