"""The signed-in resident: who they are, and binding them to their room."""

from __future__ import annotations

from flask import current_app, jsonify
from pydantic import ConfigDict, Field, model_validator
from sqlalchemy import select

from app.binding import bindings as binding_service
from app.binding.models import Binding
from app.community.models import Resident
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import BadRequest, Forbidden, RateLimited, ValidationFailed, WeChatError
from app.wechat import get_phone_number
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import ERROR_RESPONSES, ref, resident_json
from miniprogram_api.tokens import current_openid
from miniprogram_api.validation import REQUIRED_TEXT_PATTERN, Body, Int, RequiredText, Text, refuse

CHANNEL = "wxa"
def _text(value: str | int | None) -> str | None:
    return str(value).strip() or None if value is not None else None


_ADDRESS_PART = Text(20) | Int(0, 99999)
_GIVEN = {"anyOf": [{"type": "string", "pattern": REQUIRED_TEXT_PATTERN}, {"type": "integer"}]}


class BindingStart(Body):
    """Either phone_code, or building + room + phone."""

    model_config = ConfigDict(json_schema_extra={
        "description": "二选一：phone_code（微信验证过的手机号，可附房号），或 building+room+phone"
                       "（需物业确认或验证码）；都不全时 422 missing_field（details.fields 列出缺的）。",
        "anyOf": [{"properties": {"phone_code": {"type": "string", "pattern": REQUIRED_TEXT_PATTERN}},
                   "required": ["phone_code"]},
                  {"properties": {"building": _GIVEN, "room": _GIVEN,
                                  "phone": {"type": "string", "pattern": REQUIRED_TEXT_PATTERN}},
                   "required": ["building", "room", "phone"]}]})

    phone_code: Text(128) = Field("", title="手机号授权码", description="getPhoneNumber 按钮得到的 code")
    building: _ADDRESS_PART = Field(None, title="楼号", examples=["30"])
    unit: _ADDRESS_PART = Field(None, title="单元", examples=["2"])
    room: _ADDRESS_PART = Field(None, title="房号", examples=["1201"])
    phone: Text(20) = Field("", title="手机号")

    @model_validator(mode="after")
    def _one_way(self) -> BindingStart:
        if not self.phone_code:
            given = {"building": _text(self.building), "room": _text(self.room), "phone": self.phone}
            missing = [name for name, value in given.items() if not value]
            if missing:
                raise refuse("missing_field", "请授权手机号，或填写楼号、房号和手机号", fields=missing)
        return self


BOUND_RESPONSE = {"description": "已绑定", "type": "object",
                  "properties": {"bound": {"type": "boolean"}, "resident": ref("Resident")}}
PENDING_RESPONSE = {"description": "已提交，等待物业确认或输入验证码", "type": "object",
                    "properties": {"bound": {"type": "boolean"}, "binding": ref("PendingBinding"),
                                   "message": {"type": "string"}}}


class BindingConfirm(Body):
    """The code the property office gave."""

    code: RequiredText(10) | Int(0, 9_999_999_999) = Field(title="验证码")


SERVICE_ERRORS = {s: ERROR_RESPONSES[s] for s in (404, 409, 429)}


def binding_json(binding: Binding) -> dict:
    """A pending binding, without its confirmation code."""
    return {"id": binding.id, "status": binding.status, "expires_at": binding.expires_at.isoformat()}


def current_resident() -> Resident:
    """The bound resident of this request; 403 not_bound when the user has not bound a room yet."""
    resident = binding_service.resident_for_openid(db.session, CHANNEL, current_openid())
    if resident is None:
        raise Forbidden("请先绑定您的房屋", code="not_bound")
    return resident


def _pending(openid: str) -> Binding | None:
    return db.session.scalar(
        select(Binding).where(Binding.channel == CHANNEL, Binding.openid == openid,
                              Binding.status == "pending", Binding.expires_at > utcnow())
        .order_by(Binding.id.desc())
    )



@api_route("/me", summary="当前用户：绑定的住户信息", tags=("me",),
           responses={200: {"description": "成功", **ref("Me")}})
def me():
    """The resident this user is bound to, or bound=false with any pending binding."""
    openid = current_openid()
    resident = binding_service.resident_for_openid(db.session, CHANNEL, openid)
    pending = None if resident else _pending(openid)
    return jsonify({
        "bound": resident is not None,
        "resident": resident_json(resident) if resident else None,
        "pending_binding": binding_json(pending) if pending else None,
    })


@api_route("/me/binding", methods=("POST",), summary="绑定房屋", tags=("me",),
           body=BindingStart,
           responses={200: BOUND_RESPONSE, 202: PENDING_RESPONSE, **SERVICE_ERRORS, 502: ERROR_RESPONSES[502]})
def start_binding(body: BindingStart):
    """Bind at once with a WeChat-verified phone, or open a pending binding from room + phone."""
    openid = current_openid()
    building, unit, room = _text(body.building), _text(body.unit), _text(body.room)
    if body.phone_code:
        try:
            phone = get_phone_number(current_app._get_current_object(), body.phone_code)
        except WeChatError as exc:
            if exc.errcode == 40029:
                raise BadRequest("手机号授权已失效，请重新点击授权", code="invalid_phone_code") from exc
            raise
        resident = binding_service.bind_verified_phone(
            db.session, channel=CHANNEL, openid=openid, phone=phone, building=building, unit=unit, room=room)
        body_out = {"bound": True, "resident": resident_json(resident)}
        return jsonify(body_out)
    binding = binding_service.start_binding(
        db.session, channel=CHANNEL, openid=openid, building=building, unit=unit, room=room, phone=body.phone)
    body_out = {"bound": False, "binding": binding_json(binding),
                "message": "已提交，请等待物业确认，或输入物业提供的验证码"}
    return jsonify(body_out), 202


@api_route("/me/binding/confirm", methods=("POST",), summary="用验证码确认绑定", tags=("me",),
           body=BindingConfirm, responses={200: BOUND_RESPONSE, **SERVICE_ERRORS})
def confirm_binding(body: BindingConfirm):
    """Confirm the pending binding with the code the property office gave."""
    try:
        resident = binding_service.confirm_binding(
            db.session, channel=CHANNEL, openid=current_openid(), code=str(body.code))
    except (ValidationFailed, RateLimited):
        db.session.commit()  # keep the attempt count: wrong codes must add up
        raise
    body_out = {"bound": True, "resident": resident_json(resident)}
    return jsonify(body_out)
