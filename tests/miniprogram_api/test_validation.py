"""Bodies and query strings are checked by the pydantic models the OpenAPI 3.1 document is built from:
strict types, bounded numbers and texts, one policy for control characters, the API's stable codes."""

from __future__ import annotations

import pytest

from miniprogram_api.openapi import openapi31


@pytest.fixture
def wang(make_resident, db_session, login):
    make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    db_session.commit()
    return login("wang")


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_strict_types_and_bounds_in_a_body(client, wang):
    for slot_id in ("1", True, 1.5, 2**31, 0, None):
        error = _error(client.post("/api/v1/clinic/bookings", json={"slot_id": slot_id}, headers=wang), 422)
        assert error["code"] == "invalid_field" and error["details"] == {"field": "slot_id"}, slot_id
        assert error["message"] == "时段格式不对"
    assert _error(client.post("/api/v1/clinic/bookings", json={"slot_id": 7.0}, headers=wang), 404)["code"] == \
        "slot_not_found"  # 7.0 is the integer 7, as in JSON Schema
    missing = _error(client.post("/api/v1/clinic/bookings", json={}, headers=wang), 422)
    assert missing == {"code": "missing_field", "message": "缺少必填项：时段", "details": {"field": "slot_id"}}


def test_texts_are_stripped_bounded_and_free_of_control_characters(client, wang):
    blank = _error(client.post("/api/v1/chat", json={"text": "   "}, headers=wang), 422)
    assert blank["code"] == "missing_field" and blank["details"] == {"field": "text"}
    long = _error(client.post("/api/v1/chat", json={"text": "很" * 501}, headers=wang), 422)
    assert long == {"code": "invalid_field", "message": "消息太长了", "details": {"field": "text"}}
    bell = _error(client.post("/api/v1/chat", json={"text": "你好", "client_msg_id": "a\x07"}, headers=wang), 422)
    assert bell["code"] == "invalid_character" and bell["details"] == {"field": "client_msg_id"}
    lone = client.post("/api/v1/chat", data=b'{"text": "\\ud800"}', content_type="application/json", headers=wang)
    assert _error(lone, 400)["code"] == "malformed_json"


def test_query_strings_are_validated(client, wang):
    for query in ("item_id=%C2%B2", "item_id=%D9%A3", "item_id=2147483648", "item_id=0", "item_id=1.0"):
        error = _error(client.get(f"/api/v1/wishes/similar?{query}", headers=wang), 422)
        assert error["code"] == "invalid_field" and error["details"] == {"field": "item_id"}, query
    unknown = _error(client.get("/api/v1/wishes/similar?titel=x", headers=wang), 422)
    assert unknown["details"] == {"field": "titel"} and "不认识的参数" in unknown["message"]
    twice = _error(client.get("/api/v1/wishes?sort=top&sort=new", headers=wang), 422)
    assert twice["details"] == {"field": "sort"}
    assert _error(client.get("/api/v1/wishes?status=nonsense", headers=wang), 422)["code"] == "bad_status"
    assert _error(client.get("/api/v1/tickets?status=%00", headers=wang), 422)["code"] == "invalid_field"
    assert client.get("/api/v1/wishes/similar?item_id=1&title=打印机", headers=wang).status_code == 200


def test_ids_out_of_range_are_not_found_whatever_the_method(client, wang):
    for method in ("post", "delete"):
        response = getattr(client, method)("/api/v1/wishes/2147483648/follow", headers=wang)
        assert _error(response, 404)["code"] == "not_found", method
    assert client.get("/api/v1/tickets/0", headers=wang).status_code == 404


def test_the_document_is_openapi_3_1_built_from_the_models(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    op = doc["paths"]["/api/v1/clinic/bookings"]["post"]
    assert op["requestBody"]["required"] is True
    body = doc["components"]["schemas"]["SlotChoice"]
    assert body["properties"]["slot_id"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "title": "时段"}
    similar = {p["name"]: p for p in doc["paths"]["/api/v1/wishes/similar"]["get"]["parameters"]}
    assert similar["item_id"]["in"] == "query" and similar["item_id"]["schema"]["maximum"] == 2**31 - 1
    [wish_id] = doc["paths"]["/api/v1/wishes/{wish_id}"]["get"]["parameters"]
    assert wish_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    assert "Retry-After" in op["responses"]["503"]["headers"]
    assert "nullable" not in str(doc)
    ticket = doc["components"]["schemas"]["Ticket"]["allOf"][1]["properties"]
    assert ticket["assignee"]["type"] == ["string", "null"]


def test_nullable_becomes_a_type_list_or_any_of_null():
    assert openapi31({"type": "string", "enum": ["a"], "nullable": True}) == {"type": ["string", "null"],
                                                                              "enum": ["a", None]}
    assert openapi31({"nullable": True, "allOf": [{"$ref": "#/x"}], "description": "d"}) == {
        "anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}], "description": "d"}
    assert openapi31({"type": "object", "properties": {"a": {"type": "integer", "nullable": True}}}) == {
        "type": "object", "properties": {"a": {"type": ["integer", "null"]}}}
