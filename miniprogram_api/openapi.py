"""api_route: one decorator that registers a /api/v1 route, checks its token and body, and documents it.

The OpenAPI document is built from app.url_map plus what api_route recorded, so a route
added any other way still shows up (flagged x-undocumented, which a test forbids).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, g, request

from app.core.db import unit_of_work
from app.core.errors import BadRequest, ValidationFailed
from miniprogram_api.blueprint import PREFIX, bp
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES
from miniprogram_api.tokens import authenticate

_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "boolean": bool, "object": dict, "array": list, "number": (int, float),
}


@dataclass
class RouteDoc:
    """What api_route knows about one endpoint."""

    summary: str
    auth: bool
    request: dict | None
    responses: dict[int, dict]
    tags: list[str] = field(default_factory=list)
    description: str = ""


REGISTRY: dict[str, RouteDoc] = {}


def api_route(rule: str, *, methods: tuple[str, ...] = ("GET",), summary: str, auth: bool = True,
              request_schema: dict | None = None, responses: dict[int, dict] | None = None,
              tags: tuple[str, ...] = ()) -> Callable:
    """Register a view under /api/v1 with its token check, body validation and OpenAPI record."""

    def decorate(view: Callable) -> Callable:
        endpoint = view.__name__

        @functools.wraps(view)
        @unit_of_work  # the route's writes commit when it returns and roll back when it raises
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if auth:
                g.api_openid = authenticate(request.headers.get("Authorization"))
            if request_schema is not None:
                g.api_body = validate(request_schema, read_json())
            return view(*args, **kwargs)

        bp.add_url_rule(rule, endpoint, wrapper, methods=list(methods))
        REGISTRY[f"{bp.name}.{endpoint}"] = RouteDoc(
            summary=summary, auth=auth, request=request_schema, responses=responses or {200: {}},
            tags=list(tags), description=(view.__doc__ or "").strip(),
        )
        return wrapper

    return decorate


def json_body() -> dict:
    """The validated JSON body of this request (routes declared with request_schema)."""
    return g.get("api_body", {})


# C0 control characters other than tab, newline and carriage return: never part of what a person
# types, and PostgreSQL refuses NUL in text. One policy for every JSON body: refused, naming the field.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity and -Infinity are Python's, not JSON's


def _check_text(value: Any, field: str | None = None) -> None:
    if isinstance(value, str):
        if _CONTROL.search(value):
            raise ValidationFailed("内容里有无法识别的控制字符，请删除后重试", code="invalid_character",
                                   details={"field": field or ""})
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, field)
            _check_text(item, key if field is None else f"{field}.{key}")
    elif isinstance(value, list):
        for item in value:
            _check_text(item, field)


def read_json() -> dict:
    """The request's JSON object; 400 when it is not strict JSON (NaN and Infinity included) or not an
    object. validate() then refuses control characters in the fields a route declares (422)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # undecodable, not UTF-8, NaN/Infinity, absurdly nested
        raise BadRequest("请求内容不是有效的 JSON", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", code="malformed_json")
    return data


def validate(schema: dict, data: dict) -> dict:
    """Check required fields, types and lengths of a flat object schema; returns the known fields."""
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        if data.get(name) in (None, ""):
            raise ValidationFailed(f"缺少必填项：{props.get(name, {}).get('title', name)}",
                                   code="missing_field", details={"field": name})
    clean: dict = {}
    for name, spec in props.items():
        value = data.get(name)
        if value is None:
            if name in data and not spec.get("nullable"):  # sent as null: not the declared type
                raise ValidationFailed(f"{spec.get('title', name)}格式不对", code="invalid_field",
                                       details={"field": name})
            continue
        types = spec.get("type", "string")
        allowed = tuple(_TYPES[t] for t in (types if isinstance(types, list) else [types]))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValidationFailed(f"{spec.get('title', name)}格式不对", code="invalid_field",
                                   details={"field": name})
        _check_text(value, name)  # one policy for control characters, in every declared field
        if isinstance(value, str):
            value = value.strip()
            if len(value) > spec.get("maxLength", 200):
                raise ValidationFailed(f"{spec.get('title', name)}太长了", code="invalid_field",
                                       details={"field": name})
        clean[name] = value
    return clean


_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"  # what _CONTROL refuses


def documented_request(schema: dict) -> dict:
    """A request schema as documented: what validate() and read_json() enforce beyond the declared
    types, said in the schema too (a required text is not empty, no text holds a control character)."""
    required = set(schema.get("required", []))
    props = {}
    for name, spec in schema.get("properties", {}).items():
        spec = dict(spec)
        types = spec.get("type", "string")
        if "string" in (types if isinstance(types, list) else [types]):
            spec.setdefault("pattern", TEXT_PATTERN)
            spec.setdefault("maxLength", 200)
            if name in required:
                spec.setdefault("minLength", 1)
        props[name] = spec
    return {**schema, "properties": props}


def _operation(doc: RouteDoc | None, path_params: list[str]) -> dict:
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path_params]
    if doc is None:
        return {"summary": "未登记的接口", "x-undocumented": True, "parameters": params,
                "responses": {"default": {"description": "未登记"}}}
    op: dict[str, Any] = {"summary": doc.summary, "tags": doc.tags or ["api"], "parameters": params}
    if doc.description:
        op["description"] = doc.description
    if doc.auth:
        op["security"] = [{"bearerAuth": []}]
    if doc.request is not None:
        op["requestBody"] = {"required": bool(doc.request.get("required")),
                             "content": {"application/json": {"schema": documented_request(doc.request)}}}
    responses: dict[str, Any] = {}
    for status, schema in doc.responses.items():
        body = {"description": schema.get("description", "成功")}
        if schema:
            body["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = body
    codes = {400, 422} if doc.request is not None else set()
    if doc.auth:
        codes |= {401}
    for status in sorted(codes):
        responses.setdefault(str(status), ERROR_RESPONSES[status])
    op["responses"] = responses
    return op


def build_document(app: Flask) -> dict:
    """The OpenAPI 3 document for every rule under /api/v1 in the app's url_map."""
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        path_params = _CONVERTER.findall(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(REGISTRY.get(rule.endpoint), path_params)
    return {
        "openapi": "3.0.3",
        "info": {"title": "邻里小程序接口", "version": "1",
                 "description": "小程序调用的 JSON 接口；错误统一为 {error: {code, message}}。"},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
