"""Login with a wx.login() code, and the OpenAPI document."""

from __future__ import annotations

from flask import current_app, jsonify
from pydantic import Field
from sqlalchemy import select

from app.binding.bindings import resident_for_openid
from app.binding.models import MiniProgramSession
from app.core.db import db
from app.core.errors import BadRequest, RateLimited, WeChatError
from app.wechat import code_to_session
from app.wechat.errcodes import BAD_LOGIN_CODE, RATE_ERRORS
from miniprogram_api.openapi import api_route, build_document
from miniprogram_api.schemas import ERROR_RESPONSES, ref, resident_json
from miniprogram_api.tokens import issue_token, max_age
from miniprogram_api.validation import Body, RequiredText


class Login(Body):
    """The code wx.login() gave."""

    code: RequiredText(128) = Field(title="登录凭证",
                                    description="wx.login() 得到的 code；无效或已用过时 400 invalid_login_code")


LOGIN_RESPONSE = {
    "description": "登录成功；token 放在 Authorization: Bearer 头里",
    "type": "object", "required": ["token", "expires_in", "bound"],
    "properties": {
        "token": {"type": "string"},
        "expires_in": {"type": "integer", "description": "秒"},
        "bound": {"type": "boolean", "description": "是否已绑定房屋"},
        "resident": {"nullable": True, "allOf": [ref("Resident")]},
    },
}


def _store_session(openid: str, session_key: str, unionid: str | None) -> MiniProgramSession:
    row = db.session.scalar(select(MiniProgramSession).where(MiniProgramSession.openid == openid))
    if row is None:
        row = MiniProgramSession(openid=openid, session_key=session_key, unionid=unionid, token_version=1)
        db.session.add(row)
    else:
        row.session_key = session_key
        row.unionid = unionid or row.unionid
    return row


@api_route("/login", methods=("POST",), summary="用 wx.login 的 code 登录", auth=False, tags=("auth",),
           body=Login, responses={200: LOGIN_RESPONSE, 429: ERROR_RESPONSES[429], 502: ERROR_RESPONSES[502]})
def login(body: Login):
    """Exchange the code with WeChat, keep session_key on the server, answer with our own token."""
    try:
        wx = code_to_session(current_app._get_current_object(), body.code)
    except WeChatError as exc:
        if exc.errcode in BAD_LOGIN_CODE:
            raise BadRequest("登录凭证无效或已过期，请重新进入小程序", code="invalid_login_code") from exc
        if exc.errcode in RATE_ERRORS:  # WeChat's per-user login rate, still hit after our back-off
            raise RateLimited("登录太频繁，请稍后再试", code="login_rate_limited") from exc
        raise
    stored = _store_session(wx.openid, wx.session_key, wx.unionid)
    resident = resident_for_openid(db.session, "wxa", wx.openid)
    body = {
        "token": issue_token(wx.openid, stored.token_version),
        "expires_in": max_age(),
        "bound": resident is not None,
        "resident": resident_json(resident) if resident else None,
    }
    return jsonify(body)


@api_route("/openapi.json", summary="本接口的 OpenAPI 3 文档", auth=False, tags=("meta",),
           responses={200: {"description": "OpenAPI 3 文档", "type": "object"}})
def openapi_document():
    """The OpenAPI document, built from the routes the app actually has."""
    return jsonify(build_document(current_app._get_current_object()))
