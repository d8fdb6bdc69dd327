"""Error pages: console pages answer errors in HTML; /console/api keeps the app's JSON shape."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.errors import AppError, unavailable

log = logging.getLogger(__name__)

TITLES = {
    400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "页面不存在", 405: "不支持的操作",
    409: "操作冲突", 413: "内容过大", 422: "填写有误", 429: "操作太频繁", 500: "系统出错了",
}
HTTP_MESSAGES = {
    400: "请求格式不正确，请返回重试", 403: "您没有权限进行此操作", 404: "没有找到这个页面，请从菜单进入",
    405: "不支持这种请求方式，请从页面上的按钮操作", 413: "上传的内容过大", 429: "操作太频繁，请稍后再试",
    500: "系统暂时出了问题，请稍后再试；如果一直这样，请联系管理员",
}


def is_console_page() -> bool:
    """Whether this request is for a console HTML page (not the console's JSON API)."""
    path = request.path
    return (path == "/console" or path.startswith("/console/")) and not path.startswith("/console/api/")


def render_error(status: int, message: str, code: str):
    """The console's HTML error page."""
    title = TITLES.get(status, "出错了")
    return render_template("console/error.html", status=status, title=title, message=message, code=code), status


def _to_page(err: Exception):
    if isinstance(err, AppError):
        return render_error(err.status, err.message, err.code)
    if isinstance(err, HTTPException):
        status = err.code or 500
        return render_error(status, HTTP_MESSAGES.get(status, err.description or "出错了"), f"http_{status}")
    down = unavailable(err)
    if down is not None:
        page, status = render_error(down.status, down.message, down.code)
        return page, status, {"Retry-After": str(down.retry_after)}
    log.exception("console page failed", exc_info=err)
    return render_error(500, HTTP_MESSAGES[500], "internal_error")


def _wrap(app: Flask, key: type[Exception] | int) -> None:
    """Answer `key` errors with an HTML page on console paths; elsewhere defer to the app's handler."""
    exc_class, code = app._get_exc_class_and_code(key)
    previous = app.error_handler_spec[None][code].get(exc_class)

    def handle(err: Exception):
        if is_console_page():
            return _to_page(err)
        if previous is not None:
            return previous(err)
        if isinstance(err, HTTPException):
            return err
        return InternalServerError(original_exception=err)

    app.register_error_handler(key, handle)


def init_app(app: Flask) -> None:
    """Wrap the app's error handlers (registered before entry packages) for console paths."""
    for key in (AppError, HTTPException, 400, 401, 403, 404, 405, 413, 429, 500, Exception):
        _wrap(app, key)
