"""Mini-program routes: notification preferences, interest tags, subscribe grants."""

from __future__ import annotations

from sqlalchemy import select

from app.community.models import Tag
from app.notify.models import SubscribeGrant


def _login(client, db_session, make_resident, code="amy"):
    resident = make_resident(wxa_openid=f"wxa_{code}")
    db_session.commit()
    response = client.post("/api/v1/login", json={"code": code})
    assert response.status_code == 200, response.get_json()
    return resident, {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_preferences_round_trip(client, db_session, make_resident):
    _resident, auth = _login(client, db_session, make_resident)
    got = client.get("/api/v1/me/notification-preferences", headers=auth).get_json()
    assert got["quiet_hours"] is True
    assert {c["key"]: c["mutable"] for c in got["categories"]} == {
        "activities": True, "health": True, "property": True, "safety": False, "service": False}
    put = client.put("/api/v1/me/notification-preferences", headers=auth,
                     json={"muted": ["activities", "health"], "quiet_hours": False})
    assert put.status_code == 200
    body = put.get_json()
    assert [c["key"] for c in body["categories"] if c["muted"]] == ["activities", "health"]
    assert body["quiet_hours"] is False


def test_safety_cannot_be_muted_and_bad_shapes_are_422(client, db_session, make_resident):
    _resident, auth = _login(client, db_session, make_resident)
    r = client.put("/api/v1/me/notification-preferences", headers=auth, json={"muted": ["safety"]})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "category_not_mutable"
    r = client.put("/api/v1/me/notification-preferences", headers=auth, json={"muted": "activities"})
    assert r.status_code == 422
    r = client.put("/api/v1/me/notification-preferences", headers=auth, json={"muted": [1, 2]})
    assert r.status_code == 422
    assert client.get("/api/v1/me/notification-preferences").status_code == 401


def test_choose_interest_tags(client, db_session, make_resident):
    resident, auth = _login(client, db_session, make_resident)
    for name in ("interest:chess", "interest:dance", "interest:tai-chi"):
        db_session.add(Tag(community_id=resident.community_id, name=name, kind="interest", description=name))
    db_session.commit()
    r = client.put("/api/v1/me/interests", headers=auth, json={"tags": ["interest:chess", "interest:dance"]})
    assert r.status_code == 200
    assert [t["name"] for t in r.get_json()["interests"] if t["chosen"]] == ["interest:chess", "interest:dance"]
    r = client.put("/api/v1/me/interests", headers=auth, json={"tags": ["interest:tai-chi"]})
    assert [t["name"] for t in r.get_json()["interests"] if t["chosen"]] == ["interest:tai-chi"]
    r = client.put("/api/v1/me/interests", headers=auth, json={"tags": ["building:30"]})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "unknown_interest"


def test_subscribe_grants_are_counted(client, db_session, make_resident):
    resident, auth = _login(client, db_session, make_resident)
    results = {"wxa-tmpl-notice": "accept", "wxa-tmpl-ticket": "reject"}
    assert client.post("/api/v1/me/subscribe-grants", headers=auth, json={"results": results}).status_code == 200
    r = client.post("/api/v1/me/subscribe-grants", headers=auth, json={"results": {"wxa-tmpl-notice": "accept"}})
    assert r.get_json() == {"grants": {"wxa-tmpl-notice": 2}}
    db_session.expire_all()
    assert db_session.scalar(select(SubscribeGrant.remaining).where(SubscribeGrant.resident_id == resident.id)) == 2
    r = client.post("/api/v1/me/subscribe-grants", headers=auth, json={"results": ["accept"]})
    assert r.status_code == 422
