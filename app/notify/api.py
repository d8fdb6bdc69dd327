"""The resident's notification preferences, interest tags, and subscribe-message grants."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import ConfigDict, Field

from app.binding.me_api import current_resident
from app.core.db import db
from app.notify import interests
from app.notify import notify as notify_service
from app.notify.models import CATEGORIES, MUTABLE_CATEGORIES
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import ERROR_RESPONSES
from miniprogram_api.validation import TEXT_PATTERN, Body, Text

PREFERENCES = {
    "description": "通知偏好", "type": "object",
    "properties": {
        "categories": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"}, "label": {"type": "string"},
            "mutable": {"type": "boolean"}, "muted": {"type": "boolean"}}}},
        "quiet_hours": {"type": "boolean", "description": "22:00–07:00 免打扰（紧急通知除外）"},
    },
}


class PreferencesChange(Body):
    """What to change; a key left out stays as it is."""

    muted: list[Text(60)] = Field(None, max_length=50, title="关闭的通知类别", json_schema_extra={
        "items": {"type": "string", "enum": list(MUTABLE_CATEGORIES)}}, description=(
        "activities / health / property；安全提醒和办事进度不能关闭（422 category_not_mutable）"))
    quiet_hours: bool = Field(None, title="免打扰")


INTERESTS = {"description": "兴趣标签", "type": "object", "properties": {"interests": {"type": "array", "items": {
    "type": "object", "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                                     "chosen": {"type": "boolean"}}}}}}


class InterestsChoice(Body):
    """The interest tags chosen, replacing the earlier choice."""

    tags: list[Text(60)] = Field(max_length=50, title="兴趣标签",
                                 description="GET /me/interests 列出的名字；不认识的 422 unknown_interest")


def _results_schema(schema: dict[str, Any]) -> None:
    """Every key is a template id without control characters (pydantic says it as patternProperties)."""
    results = schema["properties"]["results"]
    results["additionalProperties"] = next(iter(results.pop("patternProperties").values()))
    results["propertyNames"] = {**results.get("propertyNames", {}), "pattern": TEXT_PATTERN}


class SubscribeResults(Body):
    """wx.requestSubscribeMessage's result: {template id: accept|reject|ban|filter}."""

    model_config = ConfigDict(json_schema_extra=_results_schema)

    results: dict[Text(64), Text(100)] = Field(max_length=20, title="订阅结果", description=(
        "{模板编号: accept|reject|ban|filter}；每个 accept 记一次可发送，其余（含 errMsg）忽略"))


GRANTS = {"description": "每个模板剩余可发送次数", "type": "object",
          "properties": {"grants": {"type": "object", "additionalProperties": {"type": "integer"}}}}


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
           body=PreferencesChange,
           responses={200: PREFERENCES, 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]})
def put_notification_preferences(body: PreferencesChange):
    """Mute categories (safety cannot be muted) and turn quiet hours on or off."""
    resident = current_resident()
    notify_service.set_preferences(db.session, resident.id, muted=body.muted, quiet_hours=body.quiet_hours)
    return jsonify(_preferences_json(resident.id))


@api_route("/me/interests", summary="兴趣标签", tags=("notifications",),
           responses={200: INTERESTS, 403: ERROR_RESPONSES[403]})
def get_interests():
    """The community's interest tags and which ones this resident chose."""
    return jsonify({"interests": interests.interest_catalogue(db.session, current_resident())})


@api_route("/me/interests", methods=("PUT",), summary="选择兴趣标签", tags=("notifications",),
           body=InterestsChoice,
           responses={200: INTERESTS, 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]})
def put_interests(body: InterestsChoice):
    """Replace this resident's interest tags with the chosen ones."""
    resident = current_resident()
    interests.choose_interests(db.session, resident, body.tags)
    return jsonify({"interests": interests.interest_catalogue(db.session, resident)})


@api_route("/me/subscribe-grants", methods=("POST",), summary="记录订阅消息授权", tags=("notifications",),
           body=SubscribeResults,
           responses={200: GRANTS, 403: ERROR_RESPONSES[403], 422: ERROR_RESPONSES[422]})
def post_subscribe_grants(body: SubscribeResults):
    """Record what wx.requestSubscribeMessage returned: each accept is one more send of that template."""
    grants = interests.record_grants(db.session, current_resident().id, body.results)
    return jsonify({"grants": grants})
