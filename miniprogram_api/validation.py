"""Request checks for /api/v1: strict JSON, pydantic models for bodies and query strings, and the mapping
of their errors onto the API's stable codes (app.core.errors).

Policy, the same for every route:
- a body is strict JSON (no NaN/Infinity, no lone surrogates, not absurdly nested) holding one object,
  else 400 malformed_json; a body's unknown keys are ignored (its schema is an open object), while a
  query string's undeclared or repeated parameter is refused (422 invalid_field);
- types are strict: no "1" for an integer in a body, no true for an integer, no null for a value
  (leave the key out instead); 58.0 is the integer 58, as in JSON Schema; a query string's integer is
  ASCII digits;
- every text refuses C0 control characters other than tab, newline and carriage return (_CONTROL,
  422 invalid_character), has a maximum length (422 invalid_field), and is stripped; a required text
  is not empty after stripping (422 missing_field);
- every integer has bounds; ids are 1..2**31-1.
Each refusal names the field (details.field) and says in Chinese what is wrong, using the field's title.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError, core_schema

from app.core.errors import BadRequest, ValidationFailed
from miniprogram_api.blueprint import MAX_ID

# C0 control characters other than tab, newline and carriage return: never part of what a person
# types, and PostgreSQL refuses NUL in text. One policy for every text of a body or query string.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NO_CONTROL = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]"
TEXT_PATTERN = f"^{_NO_CONTROL}*$"  # what _CONTROL refuses, said in the schema
# a required text holds one character that is neither a control character nor whitespace (it is stripped)
REQUIRED_TEXT_PATTERN = f"^{_NO_CONTROL}*[^\\s\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]{_NO_CONTROL}*$"
CONTROL_MESSAGE = "内容里有无法识别的控制字符，请删除后重试"


@dataclass(frozen=True)
class _TextRules:
    """A text: a string without control characters, at most max_length long, stripped; required: not blank."""

    max_length: int
    required: bool = False

    def clean(self, value: str) -> str:
        if _CONTROL.search(value):
            raise PydanticCustomError("invalid_character", CONTROL_MESSAGE)
        if len(value) > self.max_length:
            raise PydanticCustomError("string_too_long", "too long")
        value = value.strip()
        if self.required and not value:
            raise PydanticCustomError("string_too_short", "empty")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.clean, core_schema.str_schema(strict=True))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict:
        out: dict[str, Any] = {"type": "string", "maxLength": self.max_length,
                               "pattern": REQUIRED_TEXT_PATTERN if self.required else TEXT_PATTERN}
        if self.required:
            out["minLength"] = 1
        return out


def Text(max_length: int = 200) -> Any:  # noqa: N802 (a type, spelt like one)
    """An optional text: no control characters, at most max_length characters, stripped."""
    return Annotated[str, _TextRules(max_length)]


def RequiredText(max_length: int = 200) -> Any:  # noqa: N802
    """A text that must not be blank once stripped."""
    return Annotated[str, _TextRules(max_length, required=True)]


def _whole(value: Any) -> Any:
    # JSON has one number type: 58.0 is the integer 58 to JSON Schema too; 58.5, true and "58" are not
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def Int(minimum: int = 0, maximum: int = MAX_ID) -> Any:  # noqa: N802
    """A strict integer within bounds (58.0 counts as 58; true/false, 58.5 and "58" are refused)."""
    return Annotated[Annotated[int, Field(strict=True, ge=minimum, le=maximum)], BeforeValidator(_whole)]


Id = Int(1, MAX_ID)


def _query_int(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]{1,12}", value):  # ASCII digits only: "²" or "٣" is not a number here
            raise PydanticCustomError("int_parsing", "not an integer")
        return int(value)
    return value


def QueryInt(minimum: int = 1, maximum: int = MAX_ID) -> Any:  # noqa: N802
    """An integer in a query string: ASCII digits within bounds."""
    return Annotated[Annotated[int, Field(strict=True, ge=minimum, le=maximum)], BeforeValidator(_query_int)]


@dataclass(frozen=True)
class ErrorCode:
    """Annotated marker: any refusal of this field (missing, wrong type, not allowed) answers this code."""

    code: str
    message: str
    details: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: str, message: str, **details: Any) -> ErrorCode:
        """ErrorCode.of("bad_reason", "请选择撤回原因", reasons=[...])."""
        return cls(code, message, tuple(details.items()))


class Body(BaseModel):
    """Base of every request body model: strict types, unknown keys ignored, null is not a value."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Query(BaseModel):
    """Base of every query-string model: parameters arrive as text, each at most once; an undeclared one is
    refused (OpenAPI declares a query's parameters one by one: there is no saying "and any other")."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class DocumentSchema(GenerateJsonSchema):
    """model_json_schema as documented: a default of None only says the key may be left out."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> dict:
        out = super().default_schema(schema)
        if out.get("default", ...) is None:
            out.pop("default")
        return out


# ----- reading -------------------------------------------------------------------------------------------

def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity and -Infinity are Python's, not JSON's


def read_json() -> dict:
    """The request's JSON object ({} for an empty body); 400 malformed_json when it is not strict JSON
    (NaN and Infinity included), holds a lone surrogate, is absurdly nested or is not an object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constants)
        if b"\\u" in raw:  # "\ud800" alone decodes to a str no database or WeChat call can encode
            json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, RecursionError) as exc:  # undecodable, not UTF-8, NaN/Infinity, surrogates, nesting
        raise BadRequest("请求内容不是有效的 JSON", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", code="malformed_json")
    return data


M = TypeVar("M", bound=BaseModel)


def validate_body(model: type[M], data: Mapping[str, Any]) -> M:
    """The body as the model, or ValidationFailed with the API's codes."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise failure(exc, model) from None


def validate_query(model: type[M]) -> M:
    """This request's query string as the model; a parameter given twice is refused."""
    for name, values in request.args.lists():
        if len(values) > 1:
            raise ValidationFailed(f"参数只能给一个值：{name[:40]}", code="invalid_field", details={"field": name})
    return validate_body(model, request.args.to_dict(flat=True))


_SCHEMA_CODES = {"missing": "missing_field", "string_too_short": "missing_field",
                 "invalid_character": "invalid_character"}
_PYDANTIC_TYPES = frozenset({"string_too_long", "too_long", "too_short"})


def failure(exc: ValidationError, model: type[BaseModel]) -> ValidationFailed:
    """One ValidationFailed for the first problem (a missing field before a wrong one), naming the field."""
    errors = sorted(exc.errors(include_url=False), key=lambda e: _SCHEMA_CODES.get(e["type"]) != "missing_field")
    error = errors[0]
    loc = error["loc"]
    name = str(loc[0]) if loc else ""
    info = model.model_fields.get(name)
    title = (info.title if info is not None else None) or name
    kind = error["type"]
    details: dict = {"field": name}
    marker = next((m for m in (info.metadata if info is not None else []) if isinstance(m, ErrorCode)), None)
    if marker is not None and kind != "invalid_character":
        return ValidationFailed(marker.message, code=marker.code, details={**details, **dict(marker.details)})
    if kind == "extra_forbidden":
        return ValidationFailed(f"不认识的参数：{name[:40]}", code="invalid_field", details=details)
    if kind in _SCHEMA_CODES:
        code = _SCHEMA_CODES[kind]
        message = {"missing_field": f"缺少必填项：{title}", "invalid_character": CONTROL_MESSAGE}[code]
    elif kind in _PYDANTIC_TYPES or kind == "string_too_long":
        code, message = "invalid_field", f"{title}太长了" if "long" in kind else f"{title}格式不对"
    elif error.get("ctx", {}).get("api_code"):  # a model's own rule: its code, message and details
        ctx = error["ctx"]
        code, message = ctx["api_code"], error["msg"]
        details = dict(ctx.get("details") or details)
    else:
        code, message = "invalid_field", f"{title}格式不对"
    return ValidationFailed(message, code=code, details=details)


def refuse(code: str, message: str, **details: Any) -> PydanticCustomError:
    """An error a model's own validator raises: mapped to ValidationFailed(message, code, details)."""
    return PydanticCustomError(code, message, {"api_code": code, "details": details or None})
