"""The resident's notification preferences, interest tags, and subscribe-message grants."""

from __future__ import annotations

from flask import jsonify

from app.binding.me_api import current_resident
from app.core.db import db
from app.core.errors import ValidationFailed
from app.notify import interests
from app.notify import notify as notify_service
from app.notify.models import CATEGORIES, MUTABLE_CATEGORIES
from miniprogram_api.openapi import api_route, json_body
from miniprogram_api.schemas import ERROR_RESPONSES

PREFERENCES = {
    "description": "通知偏好", "type": "object",
    "properties": {
        "categories": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"}, "label": {"type": "string"},
            "mutable": {"type": "boolean"}, "muted": {"type": "boolean"}}}},
        "quiet_hours": {"type": "boolean", "description": "22:00–07:00 免打扰（紧急通知除外）"},
    },
}
PREFERENCES_REQUEST = {
    "type": "object",
    "properties": {
        "muted": {"type": "array", "title": "关闭的通知类别",
                  "items": {"type": "string", "enum": list(MUTABLE_CATEGORIES)},
                  "description": "activities / health / property；安全提醒不能关闭"},
        "quiet_hours": {"type": "boolean", "title": "免打扰"},
    },
}
INTERESTS = {"description": "兴趣标签", "type": "object", "properties": {"interests": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                                     "chosen": {"type": "boolean"}}}}}}
INTERESTS_REQUEST = {"type": "object", "required": ["tags"], "properties": {
    "tags": {"type": "array", "title": "兴趣标签", "items": {"type": "string"}}}}
GRANTS_REQUEST = {
    "type": "object", "required": ["results"],
    "description": "wx.requestSubscribeMessage 的结果：{模板编号: accept|reject|ban|filter}",
    "properties": {"results": {"type": "object", "title": "订阅结果"}},
}
GRANTS = {"description": "每个模板剩余可发送次数", "type": "object",
          "properties": {"grants": {"type": "object", "additionalProperties": {"type": "integer"}}}}


def _strings(value: object, field: str, limit: int = 50) -> list[str]:
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) and len(v) <= 60 for v in value):
        raise ValidationFailed("格式不对：应为文字列表", code="invalid_field", details={"field": field})
    return value


def _preferences_json(resident_id: int) -> dict:
    pref = notify_service.preferences(db.session, resident_id)
    muted = set(pref.muted or [])
    return {
        "categories": [{"key": c, "label": notify_service.CATEGORY_LABELS[c], "mutable": c in MUTABLE_CATEGORIES,
                        "muted": c in muted} for c in CATEGORIES],
        "quiet_hours": pref.quiet_hours,
    }


@api_route("/me/notification-preferences", summary="通知偏好", tags=("notifications",),
           responses={200: PREFERENCES, 403: ERROR_RESPONSES[403]})
def get_notification_preferences():
    """Which categories are muted and whether quiet hours apply."""
    return jsonify(_preferences_json(current_resident().id))


@api_route("/me/notification-preferences", methods=("PUT",), summary="修改通知偏好", tags=("notifications",),
           request_schema=PREFERENCES_REQUEST,
           responses={200: PREFERENCES, 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]})
def put_notification_preferences():
    """Mute categories (safety cannot be muted) and turn quiet hours on or off."""
    body = json_body()
    resident = current_resident()
    muted = _strings(body["muted"], "muted") if "muted" in body else None
    notify_service.set_preferences(db.session, resident.id, muted=muted, quiet_hours=body.get("quiet_hours"))
    return jsonify(_preferences_json(resident.id))


@api_route("/me/interests", summary="兴趣标签", tags=("notifications",),
           responses={200: INTERESTS, 403: ERROR_RESPONSES[403]})
def get_interests():
    """The community's interest tags and which ones this resident chose."""
    return jsonify({"interests": interests.interest_catalogue(db.session, current_resident())})


@api_route("/me/interests", methods=("PUT",), summary="选择兴趣标签", tags=("notifications",),
           request_schema=INTERESTS_REQUEST,
           responses={200: INTERESTS, 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]})
def put_interests():
    """Replace this resident's interest tags with the chosen ones."""
    resident = current_resident()
    interests.choose_interests(db.session, resident, _strings(json_body()["tags"], "tags"))
    return jsonify({"interests": interests.interest_catalogue(db.session, resident)})


@api_route("/me/subscribe-grants", methods=("POST",), summary="记录订阅消息授权", tags=("notifications",),
           request_schema=GRANTS_REQUEST,
           responses={200: GRANTS, 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]})
def post_subscribe_grants():
    """Record what wx.requestSubscribeMessage returned: each accept is one more send of that template."""
    results = json_body()["results"]
    if len(results) > 20 or not all(isinstance(k, str) and isinstance(v, str) for k, v in results.items()):
        raise ValidationFailed("订阅结果格式不对", code="invalid_field", details={"field": "results"})
    grants = interests.record_grants(db.session, current_resident().id, results)
    return jsonify({"grants": grants})
