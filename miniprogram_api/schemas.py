"""Response schemas shared by /api/v1 routes and the OpenAPI document, and the serialisers that match them.

Hand-written in OpenAPI 3.0 style (`nullable: True`); build_document turns them into 3.1 (openapi31).
Request bodies and query strings are pydantic models (miniprogram_api.validation), not written here.
"""

from __future__ import annotations

from app.community.models import Resident


def ref(name: str) -> dict:
    """A $ref to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


COMPONENTS: dict[str, dict] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "description": "稳定的错误码，如 token_expired"},
            "message": {"type": "string", "description": "给居民看的中文说明"},
            "details": {"type": "object"},
        }}},
    },
    "Household": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "label": {"type": "string", "example": "30幢2单元1201"}},
    },
    "Resident": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "phone": {"type": "string", "description": "中间四位隐藏", "example": "138****0001"},
            "role": {"type": "string", "enum": ["owner", "tenant", "family"]},
            "household": {"nullable": True, "allOf": [ref("Household")]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    },
    "PendingBinding": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending"]},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "Me": {
        "type": "object", "required": ["bound"],
        "properties": {
            "bound": {"type": "boolean"},
            "resident": {"nullable": True, "allOf": [ref("Resident")]},
            "pending_binding": {"nullable": True, "allOf": [ref("PendingBinding")]},
        },
    },
}

ERROR_RESPONSES: dict[int, dict] = {
    status: {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
    for status, text in {
        400: "请求格式不正确（如 JSON 无效）", 401: "未登录、登录过期或无效", 403: "无权限或尚未绑定房屋",
        404: "没有找到", 409: "冲突", 422: "填写的内容不完整或格式不对", 429: "太频繁", 502: "微信服务出错",
    }.items()
}
ERROR_RESPONSES[503] = {
    "description": "数据库或 Redis 暂时不可用（database_unavailable / redis_unavailable），请按 Retry-After 秒数后重试",
    "headers": {"Retry-After": {"description": "建议多少秒后重试", "schema": {"type": "integer", "minimum": 1}}},
    "content": {"application/json": {"schema": ref("Error")}},
}


def resident_json(resident: Resident) -> dict:
    """A resident as the mini-program sees them (phone masked)."""
    household = resident.household
    return {
        "id": resident.id,
        "name": resident.name,
        "phone": resident.masked_phone,
        "role": resident.role,
        "household": {"id": household.id, "label": household.label} if household else None,
        "tags": sorted(tag.name for tag in resident.tags if tag.shown_to_resident),
    }
