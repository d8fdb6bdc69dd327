"""WeChat API clients (official account, mini-program, WeChat Work) and the calls we make with them."""

from app.wechat.calls import (
    WxaSession,
    code_to_session,
    get_phone_number,
    send_customer_text,
    send_subscribe_message,
    send_template_message,
    send_wecom_text,
)
from app.wechat.client import OfficialAccountClient, WeComClient
from app.wechat.errcodes import NEVER_RETRY, RATE_ERRORS, TOKEN_ERRORS
from app.wechat.factory import (
    build_oa_client,
    build_wecom_client,
    build_wxa_client,
    oa_client,
    wecom_client,
    wecom_configured,
    wxa_client,
)

__all__ = [
    "NEVER_RETRY", "RATE_ERRORS", "TOKEN_ERRORS", "OfficialAccountClient", "WeComClient", "WxaSession",
    "build_oa_client", "build_wecom_client", "build_wxa_client", "code_to_session", "get_phone_number",
    "oa_client", "send_customer_text", "send_subscribe_message", "send_template_message",
    "send_wecom_text", "wecom_client", "wecom_configured", "wxa_client",
]
