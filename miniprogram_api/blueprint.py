"""The /api/v1 blueprint and its error rendering: one JSON shape for every failure."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from app.core.errors import AppError, unavailable

PREFIX = "/api/v1"
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers
bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)
log = logging.getLogger(__name__)


def _up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 1..limit, without leading zeros."""
    digits = str(limit)
    parts = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            parts.append(f"{digits[:i]}[{low}-{int(digit) - 1}][0-9]{{{len(digits) - i - 1}}}")
    return "(?:" + "|".join([*parts, digits]) + ")"


class IdConverter(BaseConverter):
    """<id:ticket_id>: a row id, 1..2**31-1 in ASCII digits. The range is in the pattern itself, so an id
    out of range matches no rule (404); werkzeug's int(max=...) refuses it after matching, and a rule of
    the same path for another method then answers 405."""

    regex = _up_to(MAX_ID)
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def _add_converter(state) -> None:
    state.app.url_map.converters.setdefault("id", IdConverter)


bp.record_once(_add_converter)  # before any route of the features is added to the app's url_map

_HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "您没有权限进行此操作"),
    404: ("not_found", "没有这个地址"),
    405: ("method_not_allowed", "不支持这种请求方式"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请以 JSON 格式提交"),
}


def _render(err: AppError):
    response = jsonify(err.to_dict())
    response.status_code = err.status
    if err.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if err.status == 503:
        response.headers["Retry-After"] = str(getattr(err, "retry_after", 5))
    return response


@bp.errorhandler(AppError)
def _app_error(err: AppError):
    return _render(err)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    code, message = _HTTP_MESSAGES.get(err.code or 500, ("error", "请求有误，请稍后再试"))
    err_obj = AppError(message, code=code)
    err_obj.status = err.code or 500
    response = _render(err_obj)
    allow = dict(err.get_headers()).get("Allow")
    if allow:  # a 405 names the methods the address does take (RFC 9110)
        response.headers["Allow"] = allow
    return response


@bp.errorhandler(Exception)
def _unexpected(err: Exception):
    down = unavailable(err)
    if down is not None:  # the database or Redis is down: 503 with a retry hint, not a 500
        log.warning("/api/v1: %s (%s)", down.code, type(err).__name__)
        return _render(down)
    log.exception("unexpected error in /api/v1")
    err_obj = AppError("服务暂时出了点问题，请稍后再试", code="internal_error")
    err_obj.status = 500
    return _render(err_obj)
