"""GET /api/v1/me and binding a mini-program user to their room."""

from __future__ import annotations

from sqlalchemy import select

from app.binding.models import Binding
from app.community.models import Resident, Tag


def test_me_shows_the_bound_resident(client, db_session, login, make_resident):
    resident = make_resident("30", "2", "1201", name="王阿姨", phone="13800000007", role="tenant",
                             wxa_openid="wxa_wang")
    tag = Tag(community_id=resident.community_id, name="building:30", kind="system")
    resident.tags.append(tag)
    db_session.flush()
    body = client.get("/api/v1/me", headers=login("wang")).get_json()
    assert body["bound"] is True and body["pending_binding"] is None
    assert body["resident"] == {
        "id": resident.id, "name": "王阿姨", "phone": "138****0007", "role": "tenant",
        "household": {"id": resident.household_id, "label": "30幢2单元1201"}, "tags": ["building:30"],
    }


def test_me_hides_the_staffs_internal_labels(client, db_session, login, make_resident):
    """A resident sees the interests they chose and where they live, never health colours or 独居老人."""
    resident = make_resident("30", "2", "1201", name="王阿姨", wxa_openid="wxa_wang", birth_year=1940)
    for name, kind in (("building:30", "system"), ("unit:30-2", "system"), ("age:80+", "system"),
                       ("health:red", "system"), ("独居老人", "manual"), ("interest:太极", "interest")):
        resident.tags.append(Tag(community_id=resident.community_id, name=name, kind=kind))
    db_session.flush()
    body = client.get("/api/v1/me", headers=login("wang")).get_json()
    assert body["resident"]["tags"] == ["building:30", "interest:太极", "unit:30-2"]


def test_verified_phone_with_one_match_binds_at_once(client, db_session, login, make_resident):
    resident = make_resident("5", "1", "301", phone="13800000001")
    headers = login("li")
    response = client.post("/api/v1/me/binding", json={"phone_code": "phone-13800000001"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["bound"] is True and response.get_json()["resident"]["id"] == resident.id
    db_session.expire_all()
    assert db_session.get(Resident, resident.id).wxa_openid == "wxa_li"
    assert client.get("/api/v1/me", headers=headers).get_json()["bound"] is True


def test_verified_phone_with_several_matches_asks_for_the_room(client, login, make_resident, make_community):
    make_resident("5", "1", "301", phone="13800000002")
    other = make_community()
    second = make_resident("7", "2", "502", phone="13800000002", community=other)
    headers = login("chen")
    ask = client.post("/api/v1/me/binding", json={"phone_code": "phone-13800000002"}, headers=headers)
    assert ask.status_code == 422 and ask.get_json()["error"]["code"] == "room_required"
    done = client.post("/api/v1/me/binding", headers=headers, json={
        "phone_code": "phone-13800000002", "building": "7", "unit": "2", "room": 502})
    assert done.status_code == 200 and done.get_json()["resident"]["id"] == second.id


def test_verified_phone_not_on_the_roster_is_404(client, login):
    response = client.post("/api/v1/me/binding", json={"phone_code": "phone-13999999999"}, headers=login())
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "resident_not_found"


def test_bad_phone_code_is_400(client, login):
    response = client.post("/api/v1/me/binding", json={"phone_code": "junk"}, headers=login())
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_phone_code"


def test_room_and_phone_open_a_pending_binding_confirmed_by_code(client, db_session, login, make_resident):
    resident = make_resident("30", "2", "1201", phone="13800000003")
    headers = login("zhao")
    response = client.post("/api/v1/me/binding", headers=headers, json={
        "building": "30", "unit": "2", "room": "1201", "phone": "138 0000 0003"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["bound"] is False and body["binding"]["status"] == "pending"
    binding = db_session.scalar(select(Binding).where(Binding.openid == "wxa_zhao"))
    assert binding.channel == "wxa" and binding.code
    assert binding.code not in response.get_data(as_text=True)

    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["bound"] is False and me["pending_binding"]["id"] == binding.id
    assert binding.code not in str(me)

    wrong = "000000" if binding.code != "000000" else "111111"
    bad = client.post("/api/v1/me/binding/confirm", json={"code": wrong}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_binding_code"
    db_session.expire_all()
    assert db_session.get(Binding, binding.id).attempts == 1

    ok = client.post("/api/v1/me/binding/confirm", json={"code": binding.code}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["resident"]["id"] == resident.id
    assert client.get("/api/v1/me", headers=headers).get_json()["bound"] is True


def test_unknown_room_is_404_and_missing_fields_422(client, login, make_resident):
    make_resident("30", "2", "1201", phone="13800000004")
    headers = login()
    unknown = client.post("/api/v1/me/binding", headers=headers, json={
        "building": "99", "unit": "1", "room": "101", "phone": "13800000004"})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "household_not_found"
    missing = client.post("/api/v1/me/binding", headers=headers, json={"building": "30"})
    assert missing.status_code == 422
    assert set(missing.get_json()["error"]["details"]["fields"]) == {"room", "phone"}


def test_confirm_without_pending_binding_is_404(client, login):
    response = client.post("/api/v1/me/binding/confirm", json={"code": "123456"}, headers=login())
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_pending_binding"


def test_binding_needs_a_token(client):
    response = client.post("/api/v1/me/binding", json={"phone_code": "phone-13800000001"})
    assert response.status_code == 401
