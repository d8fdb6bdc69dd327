"""POST /api/v1/wishes/<id>/withdraw: the author takes back a wish with a reason; neighbours are told once."""

from __future__ import annotations

from sqlalchemy import select

from app.community.models import Resident
from app.core.db import db
from app.notify.models import Notification
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes.models import Wish

TOLD = "已由提出的邻居撤回"


def _create(client, headers, **body) -> dict:
    response = client.post("/api/v1/wishes", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _withdraw(client, headers, wish_id: int, **body):
    return client.post(f"/api/v1/wishes/{wish_id}/withdraw", json=body, headers=headers)


def _told(wish_title: str) -> dict[int, int]:
    """How many withdrawal notices each resident got for this wish."""
    db.session.expire_all()
    texts = db.session.execute(select(Notification.resident_id, Notification.text)).all()
    counts: dict[int, int] = {}
    for resident_id, text in texts:
        if TOLD in text and f"「{wish_title}」" in text:
            counts[resident_id] = counts.get(resident_id, 0) + 1
    return counts


def test_the_author_withdraws_with_a_reason_and_followers_are_told_once(client, wang, zhao, make_resident,
                                                                         community, db_session, login, run_jobs):
    make_resident("5", "1", "102", name="钱阿姨", wxa_openid="wxa_qian", community=community)
    db_session.commit()
    qian = login("qian")
    wish = _create(client, wang, title="篮球场")
    assert wish["can_withdraw"] and wish["reason_label"] == ""
    client.post(f"/api/v1/wishes/{wish['id']}/support", headers=zhao)
    client.post(f"/api/v1/wishes/{wish['id']}/follow", headers=qian)
    assert not client.get(f"/api/v1/wishes/{wish['id']}", headers=zhao).get_json()["can_withdraw"]
    run_jobs()  # nothing about withdrawal yet

    response = _withdraw(client, wang, wish["id"], reason="unfeasible", note="  场地不够，消防通道不能占  ")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "withdrawn" and body["status_label"] == "已撤回"
    assert body["reason"] == "unfeasible: 场地不够，消防通道不能占"
    assert body["reason_label"] == "不可行：场地不够，消防通道不能占"
    assert not body["can_withdraw"] and not body["can_unsupport"]
    last = body["timeline"][-1]
    assert (last["kind"], last["from"], last["to"], last["actor"], last["actor_name"]) == (
        "withdrawn", "collecting", "withdrawn", "resident", "王阿姨")

    run_jobs()
    run_jobs()  # relaying again sends nothing twice
    people = dict(db.session.execute(select(Resident.wxa_openid, Resident.id)).all())
    assert _told("篮球场") == {people["wxa_wang"]: 1, people["wxa_zhao"]: 1, people["wxa_qian"]: 1}

    again = _withdraw(client, wang, wish["id"], reason="done")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "cannot_withdraw"
    supported = client.post(f"/api/v1/wishes/{wish['id']}/support", headers=qian)
    assert supported.status_code == 409 and supported.get_json()["error"]["code"] == "not_supportable"

    listed = client.get("/api/v1/wishes?status=withdrawn", headers=zhao).get_json()["wishes"]
    assert [(w["id"], w["status"], w["reason_label"]) for w in listed] == [
        (wish["id"], "withdrawn", "不可行：场地不够，消防通道不能占")]
    assert client.get("/api/v1/wishes?status=open", headers=zhao).get_json()["wishes"] == []
    mine = client.get("/api/v1/wishes/mine", headers=zhao).get_json()["wishes"]
    assert [(w["id"], w["status"]) for w in mine] == [(wish["id"], "withdrawn")]
    assert client.get("/api/v1/wishes/rankings", headers=zhao).get_json()["ranking"] == []
    similar = client.get("/api/v1/wishes/similar", query_string={"title": "篮球场"}, headers=zhao).get_json()
    assert similar["wishes"] == []
    fresh = client.post("/api/v1/wishes", json={"title": "篮球场"}, headers=zhao)
    assert fresh.status_code == 201  # no longer offered as the similar wish to support


def test_a_wish_under_review_can_be_withdrawn_without_a_note(client, wang, zhao, community, db_session):
    wishes.set_threshold(db_session, community.id, mode="absolute", value=2)
    db_session.commit()
    wish = _create(client, wang, title="加装电梯")
    assert client.post(f"/api/v1/wishes/{wish['id']}/support", headers=zhao).get_json()["status"] == "under_review"
    body = _withdraw(client, wang, wish["id"], reason="started").get_json()
    assert body["status"] == "withdrawn" and body["reason"] == "started" and body["reason_label"] == "已在建设"
    assert body["timeline"][-1]["from"] == "under_review"


def test_only_the_author_may_withdraw(client, wang, zhao):
    wish = _create(client, wang, title="篮球场")
    client.post(f"/api/v1/wishes/{wish['id']}/support", headers=zhao)
    refused = _withdraw(client, zhao, wish["id"], reason="duplicated")
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "not_author" and error["message"] == "只有提出心愿的邻居才能撤回它"
    db.session.expire_all()
    assert db.session.get(Wish, wish["id"]).status == "collecting"


def test_a_decided_wish_cannot_be_withdrawn(client, wang, committee, db_session):
    wish = _create(client, wang, title="长椅")
    wish_review.accept(db_session, wish["id"], committee, note="下月安装")
    db_session.commit()
    refused = _withdraw(client, wang, wish["id"], reason="done")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "cannot_withdraw" and error["details"] == {"status": "accepted"}
    assert "已采纳" in error["message"]
    assert not client.get(f"/api/v1/wishes/{wish['id']}", headers=wang).get_json()["can_withdraw"]
    rejected = _create(client, wang, title="屋顶光伏发电")
    wish_review.reject(db_session, rejected["id"], committee, "屋顶产权不属于小区")
    db_session.commit()
    assert _withdraw(client, wang, rejected["id"], reason="done").status_code == 409
    detail = client.get(f"/api/v1/wishes/{rejected['id']}", headers=wang).get_json()
    assert detail["reason_label"] == "屋顶产权不属于小区"  # the committee's words stay as they are


def test_bad_reasons_and_notes_are_422(client, wang):
    wish = _create(client, wang, title="篮球场")
    bad = _withdraw(client, wang, wish["id"], reason="bored")
    assert bad.status_code == 422
    error = bad.get_json()["error"]
    assert error["code"] == "bad_reason" and set(error["details"]["reasons"]) == {
        "duplicated", "started", "unfeasible", "done"}
    missing = _withdraw(client, wang, wish["id"])
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "bad_reason"
    assert _withdraw(client, wang, wish["id"], reason=3).status_code == 422
    long_note = _withdraw(client, wang, wish["id"], reason="done", note="很" * 201)
    assert long_note.status_code == 422 and long_note.get_json()["error"]["code"] == "invalid_field"
    db.session.expire_all()
    assert db.session.get(Wish, wish["id"]).status == "collecting"


def test_no_token_401_unbound_403_other_community_404(client, wang, login, make_resident, make_community,
                                                      db_session):
    wish = _create(client, wang, title="篮球场")
    path = f"/api/v1/wishes/{wish['id']}/withdraw"
    assert client.post(path, json={"reason": "done"}).status_code == 401
    unbound = client.post(path, json={"reason": "done"}, headers=login("nobody"))
    assert unbound.status_code == 403
    make_resident("1", "1", "101", wxa_openid="wxa_far", community=make_community("别的小区"))
    db_session.commit()
    far = client.post(path, json={"reason": "done"}, headers=login("far"))
    assert far.status_code == 404 and far.get_json()["error"]["code"] == "wish_not_found"


def test_the_route_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/wishes/{wish_id}/withdraw"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]  # a named request model
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["properties"]["reason"]["enum"] == ["duplicated", "started", "unfeasible", "done"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(op["responses"])
    assert "withdrawn" in doc["components"]["schemas"]["WishSummary"]["properties"]["status"]["enum"]
