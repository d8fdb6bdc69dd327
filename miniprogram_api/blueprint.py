"""The /api/v1 blueprint and its error rendering: one JSON shape for every failure."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from werkzeug.exceptions import HTTPException

from app.core.errors import AppError, unavailable

PREFIX = "/api/v1"
bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)
log = logging.getLogger(__name__)

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
