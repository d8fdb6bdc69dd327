"""api_route: one decorator that registers a /api/v1 route, checks its token, query string and body, and
documents it.

Bodies and query strings are pydantic models (miniprogram_api.validation): the same models validate the
request and give the OpenAPI 3.1 document its request schemas, so what is declared is what is enforced.
The document is built from app.url_map plus what api_route recorded, so a route added any other way
still shows up (flagged x-undocumented, which a test forbids).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, g, request
from pydantic import BaseModel

from app.core.db import unit_of_work
from miniprogram_api.blueprint import MAX_ID, PREFIX, bp
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES
from miniprogram_api.tokens import authenticate
from miniprogram_api.validation import DocumentSchema, read_json, validate_body, validate_query

__all__ = ["REGISTRY", "RouteDoc", "api_route", "build_document", "openapi31", "read_json"]


@dataclass
class RouteDoc:
    """What api_route knows about one endpoint."""

    summary: str
    auth: bool
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, dict]
    tags: list[str] = field(default_factory=list)
    description: str = ""


REGISTRY: dict[str, RouteDoc] = {}


def api_route(rule: str, *, methods: tuple[str, ...] = ("GET",), summary: str, auth: bool = True,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              responses: dict[int, dict] | None = None, tags: tuple[str, ...] = ()) -> Callable:
    """Register a view under /api/v1 with its token check, query and body validation, and OpenAPI record.

    The view is called with `query=` (an instance of the query model) and `body=` (of the body model)
    when those are declared, besides the rule's path arguments.
    """

    def decorate(view: Callable) -> Callable:
        endpoint = view.__name__

        @functools.wraps(view)
        @unit_of_work  # the route's writes commit when it returns and roll back when it raises
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if auth:
                g.api_openid = authenticate(request.headers.get("Authorization"))
            if query is not None:
                kwargs["query"] = validate_query(query)
            if body is not None:
                kwargs["body"] = validate_body(body, read_json())
            return view(*args, **kwargs)

        bp.add_url_rule(rule, endpoint, wrapper, methods=list(methods))
        REGISTRY[f"{bp.name}.{endpoint}"] = RouteDoc(
            summary=summary, auth=auth, body=body, query=query, responses=responses or {200: {}},
            tags=list(tags), description=(view.__doc__ or "").strip(),
        )
        return wrapper

    return decorate


# ----- the document ---------------------------------------------------------------------------------------

def openapi31(schema: Any) -> Any:
    """A hand-written OpenAPI 3.0 schema in 3.1 form: `nullable: true` becomes a type list or anyOf null."""
    if isinstance(schema, list):
        return [openapi31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: openapi31(value) if key not in ("enum", "example", "examples", "default") else value
           for key, value in schema.items() if key != "nullable"}
    if not schema.get("nullable"):
        return out
    if isinstance(out.get("type"), str | list) and "allOf" not in out and "$ref" not in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    keep = {key: out.pop(key) for key in ("description", "title", "example") if key in out}
    return {"anyOf": [out, {"type": "null"}], **keep}


def _model_schema(model: type[BaseModel], components: dict[str, dict]) -> dict:
    """The model's JSON Schema as a component (its nested models too); returns a $ref to it."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", schema_generator=DocumentSchema)
    for name, sub in {**schema.pop("$defs", {}), model.__name__: schema}.items():
        if components.setdefault(name, sub) != sub:
            raise ValueError(f"two request models are called {name}: rename one")
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(schema_generator=DocumentSchema)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        param["schema"] = prop
        params.append(param)
    return params


_CONVERTER = re.compile(r"<(?:([^:<>(]+)(?:\(([^)]*)\))?:)?([^<>]+)>")


def _path_parameter(converter: str, args: str, name: str) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if converter == "id":
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    elif converter == "int":
        bounds = dict(re.findall(r"(min|max)\s*=\s*(\d+)", args or ""))
        schema = {"type": "integer", "minimum": int(bounds.get("min", 0))}
        if "max" in bounds:
            schema["maximum"] = int(bounds["max"])
    elif converter not in ("", "default", "string"):
        schema = {"type": "string", "description": f"{converter} converter"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _operation(doc: RouteDoc | None, path_params: list[dict], components: dict[str, dict]) -> dict:
    if doc is None:
        return {"summary": "未登记的接口", "x-undocumented": True, "parameters": path_params,
                "responses": {"default": {"description": "未登记"}}}
    params = path_params + (_query_parameters(doc.query) if doc.query is not None else [])
    op: dict[str, Any] = {"summary": doc.summary, "tags": doc.tags or ["api"], "parameters": params}
    if doc.description:
        op["description"] = doc.description
    if doc.auth:
        op["security"] = [{"bearerAuth": []}]
    if doc.body is not None:
        ref = _model_schema(doc.body, components)
        schema = components[doc.body.__name__]  # a body is required when {} would not do
        required = bool(schema.get("required") or schema.get("anyOf") or schema.get("oneOf"))
        op["requestBody"] = {"required": required, "content": {"application/json": {"schema": ref}}}
    responses: dict[str, Any] = {}
    for status, schema in doc.responses.items():
        if "content" in schema:  # a whole response object (an error response, say)
            responses[str(status)] = openapi31(schema)
            continue
        schema = {key: value for key, value in schema.items() if key != "description"}
        body: dict[str, Any] = {"description": doc.responses[status].get("description", "成功")}
        if schema:
            body["content"] = {"application/json": {"schema": openapi31(schema)}}
        responses[str(status)] = body
    codes = {503}  # every route reads the database: 503 with Retry-After while it is unreachable
    if doc.body is not None or doc.query is not None:
        codes |= {400, 422} if doc.body is not None else {422}
    if doc.auth:
        codes |= {401}
    if path_params:
        codes |= {404}
    for status in sorted(codes):
        responses.setdefault(str(status), ERROR_RESPONSES[status])
    op["responses"] = dict(sorted(responses.items()))
    return op


def build_document(app: Flask) -> dict:
    """The OpenAPI 3.1 document for every rule under /api/v1 in the app's url_map."""
    paths: dict[str, dict] = {}
    components = {name: openapi31(schema) for name, schema in COMPONENTS.items()}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = _CONVERTER.sub(r"{\3}", rule.rule)
        path_params = [_path_parameter(conv, args, name) for conv, args, name in _CONVERTER.findall(rule.rule)]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = _operation(REGISTRY.get(rule.endpoint), path_params, components)
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "邻里小程序接口", "version": "1",
                 "description": "小程序调用的 JSON 接口；错误统一为 {error: {code, message, details}}。"
                                "请求体为 JSON 对象，未声明的字段会被忽略；值不能为 null（不填就不要传这个字段）；"
                                "文字会去掉首尾空白，不能含控制字符（制表、换行、回车除外）。"
                                "数据库暂时不可用时返回 503，Retry-After 头给出建议的重试秒数。"},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
