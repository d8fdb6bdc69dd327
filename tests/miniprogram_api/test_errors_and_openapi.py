"""One JSON error shape under /api/v1, and an OpenAPI document that covers every route."""

from __future__ import annotations

import re

from flask import Flask

from miniprogram_api import build_document


def _assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error["message"]


def _request_schema(doc: dict, operation: dict) -> dict:
    """An operation's request body schema: a $ref to a component named after its pydantic model."""
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.startswith("#/components/schemas/")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/login", data=b'{"code": ', content_type="application/json")
    _assert_error(response, 400, "malformed_json")


def test_json_that_is_not_an_object_is_400(client):
    _assert_error(client.post("/api/v1/login", json=["abc"]), 400, "malformed_json")


def test_json_sent_without_content_type_still_parses(client):
    response = client.post("/api/v1/login", data=b'{"code": "abc"}', content_type="text/plain")
    assert response.status_code == 200


def test_unknown_path_and_wrong_method_answer_json(client):
    _assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    _assert_error(client.get("/api/v1/login"), 405, "method_not_allowed")


def test_malformed_json_with_token_is_400(client, login):
    response = client.post("/api/v1/me/binding", data=b"{oops", content_type="application/json",
                           headers=login())
    _assert_error(response, 400, "malformed_json")


def test_openapi_document_covers_every_api_rule(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")]
    assert len(rules) >= 5
    for rule in rules:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in doc["paths"], f"{rule.rule} missing from the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = doc["paths"][path][method.lower()]
            assert not op.get("x-undocumented"), f"{method} {rule.rule} is not declared with @api_route"
            assert op["summary"] and op["responses"]


def test_openapi_describes_auth_bodies_and_errors(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    login = doc["paths"]["/api/v1/login"]["post"]
    assert "security" not in login
    assert _request_schema(doc, login)["required"] == ["code"]
    assert "session_key" not in login["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    me = doc["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    assert me["responses"]["401"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
    assert set(doc["paths"]["/api/v1/me/binding"]["post"]["responses"]) >= {"200", "202", "401", "422"}
    assert "Resident" in doc["components"]["schemas"]


def test_a_route_added_without_api_route_is_flagged():
    rogue = Flask("rogue")
    rogue.add_url_rule("/api/v1/rogue/<int:item_id>", "rogue", lambda item_id: "")
    doc = build_document(rogue)
    op = doc["paths"]["/api/v1/rogue/{item_id}"]["get"]
    assert op["x-undocumented"] is True
    assert op["parameters"][0]["name"] == "item_id"


def test_json_constants_control_characters_and_deep_nesting_are_4xx(client, login, make_resident, db_session):
    """NaN/Infinity are not JSON; NUL and other control characters are refused naming the field; a
    7,000-level nested body is malformed, never a 500."""
    make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    db_session.commit()
    headers = {**login("wang"), "Content-Type": "application/json"}
    for raw in (b'{"kind": "repair", "description": NaN, "at_home": true}', b'{"overall": Infinity}',
                b"[" * 7000 + b"]" * 7000):
        answer = client.post("/api/v1/tickets", data=raw, headers=headers)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (400, "malformed_json"), raw[:40]
    nul = client.post("/api/v1/tickets", json={"kind": "repair", "description": "水管\x00漏水", "at_home": True},
                      headers=headers)
    assert nul.status_code == 422 and nul.get_json()["error"] == {
        "code": "invalid_character", "message": "内容里有无法识别的控制字符，请删除后重试",
        "details": {"field": "description"}}
    fine = client.post("/api/v1/tickets", json={"kind": "repair", "description": "水管漏水\n很急", "at_home": True},
                       headers=headers)
    assert fine.status_code == 201


def test_a_405_names_the_allowed_methods_and_null_is_not_a_value(client, login, make_resident, db_session):
    make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    db_session.commit()
    headers = login("wang")
    wrong = client.delete("/api/v1/tickets", headers=headers)
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    null = client.put("/api/v1/me/notification-preferences", json={"muted": [], "quiet_hours": None}, headers=headers)
    assert null.status_code == 422 and null.get_json()["error"]["details"] == {"field": "quiet_hours"}


def test_the_document_says_what_validation_enforces(client):
    """Required texts are not empty and no text holds a control character, in the schema as in the check."""
    body = client.get("/api/v1/openapi.json").get_json()
    schema = _request_schema(body, body["paths"]["/api/v1/tickets"]["post"])
    description = schema["properties"]["description"]
    assert description["minLength"] == 1 and description["pattern"].startswith("^[^\\u0000")
