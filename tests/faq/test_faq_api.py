"""/api/v1/faq: the community's active entries, by category or closest to a question; bound residents only;
documented in the OpenAPI document with its query parameters."""

from __future__ import annotations

import pytest

from app.faq.models import FaqEntry
from miniprogram_api import build_document


@pytest.fixture
def wang(make_resident, make_community, db_session, login):
    """王阿姨 in the mini-program, her community's entries (one inactive) and another community's; her headers."""
    resident = make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    other = make_community("别的小区")
    db_session.add_all([
        FaqEntry(community_id=resident.community_id, question="物业电话是多少", answer="0571-8806 2026",
                 synonyms=["物业电话"], category="物业服务"),
        FaqEntry(community_id=resident.community_id, question="物业费怎么交", answer="小程序里交",
                 synonyms=["交物业费"], category="缴费"),
        FaqEntry(community_id=resident.community_id, question="垃圾几点收", answer="7:00–9:00", synonyms=[]),
        FaqEntry(community_id=resident.community_id, question="停车费怎么收", answer="停用了", synonyms=[],
                 active=False),
        FaqEntry(community_id=other.id, question="保安电话多少", answer="别的小区", synonyms=[]),
    ])
    db_session.commit()
    return login("wang")


def test_the_active_entries_of_the_residents_community(client, wang):
    response = client.get("/api/v1/faq", headers=wang)
    assert response.status_code == 200
    entries = response.get_json()["entries"]
    # by category, then question; no category last
    assert [e["question"] for e in entries] == ["物业电话是多少", "物业费怎么交", "垃圾几点收"]
    first = entries[0]
    assert set(first) == {"id", "question", "answer", "category", "updated_at"}
    assert (first["answer"], first["category"]) == ("0571-8806 2026", "物业服务")
    assert first["updated_at"].endswith("Z")
    assert entries[2]["category"] is None


def test_one_category_or_the_entries_close_to_a_question(client, wang):
    body = client.get("/api/v1/faq", headers=wang, query_string={"category": "缴费"}).get_json()
    assert [e["question"] for e in body["entries"]] == ["物业费怎么交"]
    body = client.get("/api/v1/faq", headers=wang, query_string={"q": "物业电话多少"}).get_json()
    assert [e["question"] for e in body["entries"]][0] == "物业电话是多少"
    body = client.get("/api/v1/faq", headers=wang, query_string={"q": "今天天气怎么样"}).get_json()
    assert body["entries"] == []


def test_bad_queries_and_strangers_are_refused(client, wang, login):
    response = client.get("/api/v1/faq", headers=wang, query_string={"q": "x" * 101})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_field"
    response = client.get("/api/v1/faq", headers=wang, query_string={"page": "2"})
    assert response.status_code == 422
    assert client.get("/api/v1/faq").status_code == 401
    assert client.get("/api/v1/faq", headers=login("nobody")).status_code == 403  # not bound to a room


def test_the_route_is_documented(app):
    operation = build_document(app)["paths"]["/api/v1/faq"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"category", "q"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["entries"]["items"]["properties"]["question"]["type"] == "string"
    assert {"401", "403", "422", "503"} <= set(operation["responses"])
