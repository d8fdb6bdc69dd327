"""One error type per failure kind; each has a stable code and a message residents can read."""

from __future__ import annotations


class AppError(Exception):
    """Base for expected failures: the API renders them as JSON, the bot as a polite reply."""

    code = "error"
    status = 400
    message = "请求有误，请稍后再试"

    def __init__(self, message: str | None = None, *, code: str | None = None, details: dict | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict:
        """The one JSON error shape of the API."""
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(AppError):
    code, status, message = "bad_request", 400, "请求格式不正确"


class ValidationFailed(AppError):
    code, status, message = "validation_failed", 422, "填写的内容不完整或格式不对"


class Unauthorized(AppError):
    code, status, message = "unauthorized", 401, "请先登录"


class Forbidden(AppError):
    code, status, message = "forbidden", 403, "您没有权限进行此操作"


class NotFound(AppError):
    code, status, message = "not_found", 404, "没有找到相关内容"


class Conflict(AppError):
    code, status, message = "conflict", 409, "操作冲突，请刷新后重试"


class RateLimited(AppError):
    code, status, message = "rate_limited", 429, "操作太频繁，请稍后再试"


class NotMigrated(AppError):
    code, status, message = "database_not_migrated", 503, (
        "数据库尚未升级到当前版本，请运行 `flask db upgrade`"
    )


class ServiceUnavailable(AppError):
    """The database (or Redis, where it is required) cannot be reached: try again shortly."""

    code, status, message = "service_unavailable", 503, "系统暂时繁忙，请稍后再试"
    retry_after = 5  # seconds, sent as Retry-After


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The ServiceUnavailable an exception means, when it is a lost database or Redis connection."""
    from redis.exceptions import ConnectionError as RedisConnectionError  # noqa: PLC0415
    from redis.exceptions import TimeoutError as RedisTimeout  # noqa: PLC0415
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError  # noqa: PLC0415

    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return ServiceUnavailable(code="database_unavailable")
    if isinstance(exc, RedisConnectionError | RedisTimeout):
        return ServiceUnavailable(code="redis_unavailable")
    return None


class WeChatError(AppError):
    """WeChat's API answered with an error code."""

    code, status, message = "wechat_error", 502, "微信服务暂时不可用，请稍后再试"

    def __init__(self, errcode: int, errmsg: str = ""):
        super().__init__(f"{self.message}（{errcode}）")
        self.errcode = errcode
        self.errmsg = errmsg
