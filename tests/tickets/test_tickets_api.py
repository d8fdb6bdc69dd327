"""/api/v1 tickets: every route, a household reading another's ticket (refused), and the chat box."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from app.core.clock import utcnow
from app.core.db import db
from app.tickets import dispatch
from app.tickets.models import Ticket


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), "blue").save(out, "PNG")
    return out.getvalue()


PNG = _png()


@pytest.fixture
def wang(make_resident, db_session, login):
    """王阿姨 of 3幢2单元1201 signed in to the mini-program; returns her auth headers."""
    make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    db_session.commit()
    return login("wang")


@pytest.fixture
def zhao(make_resident, db_session, login):
    make_resident("5", "1", "101", name="赵大爷", wxa_openid="wxa_zhao")
    db_session.commit()
    return login("zhao")


def _create(client, headers, **body):
    body = {"kind": "repair", "category": "water", "description": "厨房水管漏水", "at_home": True, **body}
    response = client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_at_home_list_and_detail_with_timeline(client, wang):
    created = _create(client, wang)
    assert created["number"].startswith("BX") and created["place"] == "3幢2单元1201 家中"
    assert created["status"] == "submitted" and created["can_cancel"] is True
    assert [e["kind"] for e in created["timeline"]] == ["created"]
    shared = _create(client, wang, at_home=False, building="3", place="电梯", category="elevator",
                     description="电梯按钮坏了")
    assert shared["place"] == "3幢 电梯"
    listed = client.get("/api/v1/tickets", headers=wang).get_json()["tickets"]
    assert [t["id"] for t in listed] == [shared["id"], created["id"]]
    detail = client.get(f"/api/v1/tickets/{created['id']}", headers=wang).get_json()
    assert detail["description"] == "厨房水管漏水" and detail["timeline"][0]["actor"] == "resident"


def test_bad_requests_are_4xx_with_codes(client, wang, login):
    assert client.post("/api/v1/tickets", json={"kind": "repair"}, headers=wang).status_code == 422
    no_place = client.post("/api/v1/tickets", json={"kind": "repair", "description": "坏了"}, headers=wang)
    assert no_place.status_code == 422 and no_place.get_json()["error"]["code"] == "missing_field"
    bad_kind = client.post("/api/v1/tickets", json={"kind": "wish", "description": "x", "at_home": True},
                           headers=wang)
    assert bad_kind.status_code == 422 and bad_kind.get_json()["error"]["code"] == "bad_kind"
    assert client.get("/api/v1/tickets").status_code == 401
    unbound = client.get("/api/v1/tickets", headers=login("nobody"))
    assert unbound.status_code == 403 and unbound.get_json()["error"]["code"] == "not_bound"


def test_another_household_cannot_read_or_touch_a_ticket(client, wang, zhao):
    ticket = _create(client, wang)
    for method, path in (("get", ""), ("post", "/cancel"), ("post", "/reopen"), ("post", "/rate")):
        body = {"reason": "x", "overall": 5, "speed": 5, "attitude": 5} if method == "post" else None
        response = getattr(client, method)(f"/api/v1/tickets/{ticket['id']}{path}", json=body, headers=zhao)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "ticket_not_found"
    assert client.get("/api/v1/tickets", headers=zhao).get_json()["tickets"] == []


def test_upload_a_photo_and_fetch_it(client, app, wang, zhao, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    ticket = _create(client, wang)
    response = client.post(f"/api/v1/tickets/{ticket['id']}/photos", headers=wang,
                           data={"file": (io.BytesIO(PNG), "leak.png", "image/png")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    [photo] = response.get_json()["photos"]
    assert photo["stage"] == "report" and photo["url"].startswith("/api/v1/ticket-photos/")
    served = client.get(photo["url"], headers=wang)
    assert served.mimetype == "image/png" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(served.data)).format == "PNG" and photo["url"].endswith(".png")
    assert client.get(photo["url"], headers=zhao).status_code == 404
    text = client.post(f"/api/v1/tickets/{ticket['id']}/photos", headers=wang,
                       data={"file": (io.BytesIO(b"hi"), "a.txt", "text/plain")}, content_type="multipart/form-data")
    assert text.status_code == 422 and text.get_json()["error"]["code"] == "bad_photo"


def test_cancel_then_cannot_cancel_again(client, wang):
    ticket = _create(client, wang)
    done = client.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={"reason": "自己修好了"}, headers=wang)
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/tickets/{ticket['id']}/cancel", json={}, headers=wang)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_cancellable"


def test_rate_and_reopen_after_resolution(client, wang, make_staff, db_session):
    ticket = _create(client, wang)
    second = _create(client, wang, description="卫生间下水道堵了")
    staff = make_staff("property")
    early = client.post(f"/api/v1/tickets/{ticket['id']}/rate", json={"overall": 5, "speed": 5, "attitude": 5},
                        headers=wang)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_ratable"
    dispatch.resolve(db_session, ticket["id"], staff, outcome="fixed")
    dispatch.resolve(db_session, second["id"], staff, outcome="not_fixed", note="需要业主自己找人修")
    db_session.commit()
    bad = client.post(f"/api/v1/tickets/{ticket['id']}/rate", json={"overall": 9, "speed": 5, "attitude": 5},
                      headers=wang)
    assert bad.status_code == 422
    rated = client.post(f"/api/v1/tickets/{ticket['id']}/rate",
                        json={"overall": 5, "speed": 4, "attitude": 5, "comment": "谢谢"}, headers=wang).get_json()
    assert rated["status"] == "closed" and rated["rating"] == {"overall": 5, "speed": 4, "attitude": 5,
                                                                "comment": "谢谢"}
    assert client.post(f"/api/v1/tickets/{second['id']}/reopen", json={}, headers=wang).status_code == 422
    reopened = client.post(f"/api/v1/tickets/{second['id']}/reopen", json={"reason": "还在堵"}, headers=wang)
    assert reopened.status_code == 200 and reopened.get_json()["status"] == "reopened"
    assert reopened.get_json()["timeline"][-1]["note"] == "还在堵"


def test_reopen_window_closes_after_7_days(client, wang, make_staff, db_session):
    ticket = _create(client, wang)
    dispatch.resolve(db_session, ticket["id"], make_staff("property"), outcome="fixed",
                     now=utcnow() - timedelta(days=8))
    db_session.commit()
    late = client.post(f"/api/v1/tickets/{ticket['id']}/reopen", json={"reason": "又坏了"}, headers=wang)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "reopen_window_passed"


def test_the_detail_offers_reopening_only_inside_the_window(client, wang, make_staff, db_session, clock, login):
    """can_reopen follows the service's 7-day rule (the API used to offer it forever)."""
    ticket = _create(client, wang)
    dispatch.resolve(db_session, ticket["id"], make_staff("property"), outcome="fixed")
    db_session.commit()
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=wang).get_json()["can_reopen"] is True
    clock.shift(timedelta(days=6, hours=23))
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=wang).get_json()["can_reopen"] is True
    clock.shift(timedelta(hours=2))
    wang = login("wang")  # a week on, the mini-program has signed in again (tokens last 7 days)
    detail = client.get(f"/api/v1/tickets/{ticket['id']}", headers=wang).get_json()
    assert detail["can_reopen"] is False
    late = client.post(f"/api/v1/tickets/{ticket['id']}/reopen", json={"reason": "又坏了"}, headers=wang)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "reopen_window_passed"


def test_a_trapped_lift_is_urgent_from_the_mini_program_too(client, wang):
    """The same safety words decide urgency in chat and in the API (有人困在电梯里 was 4-hour normal)."""
    created = _create(client, wang, at_home=False, building="3", place="电梯", category="elevator",
                      description="有人困在电梯里了")
    assert created["priority"] == "urgent"


@pytest.fixture
def li(make_resident, db_session, login):
    """李奶奶, wang's neighbour in 3幢2单元 (another flat)."""
    make_resident("3", "2", "502", name="李奶奶", wxa_openid="wxa_li")
    db_session.commit()
    return login("li")


def test_follow_a_neighbours_shared_area_ticket(client, wang, li, zhao):
    shared = _create(client, wang, at_home=False, building="3", place="电梯", category="elevator",
                     description="电梯异响")
    home = _create(client, wang)
    assert client.post(f"/api/v1/tickets/{home['id']}/follow", headers=li).status_code == 404
    followed = client.post(f"/api/v1/tickets/{shared['id']}/follow", headers=li)
    assert followed.status_code == 200
    assert [t["id"] for t in client.get("/api/v1/tickets", headers=li).get_json()["tickets"]] == [shared["id"]]


def test_only_tickets_offered_to_a_resident_can_be_followed(client, wang, zhao):
    """赵大爷 lives in 5幢: 3幢's lift is not offered to him, so following it by its id finds nothing."""
    shared = _create(client, wang, at_home=False, building="3", place="电梯", category="elevator",
                     description="电梯异响")
    refused = client.post(f"/api/v1/tickets/{shared['id']}/follow", headers=zhao)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (404, "ticket_not_found")
    assert client.get(f"/api/v1/tickets/{shared['id']}", headers=zhao).status_code == 404


def test_followers_read_but_only_the_reporters_household_acts(client, wang, li, make_staff, db_session):
    shared = _create(client, wang, at_home=False, building="3", place="楼道", category="lighting",
                     description="楼道灯不亮")
    client.post(f"/api/v1/tickets/{shared['id']}/follow", headers=li)
    seen = client.get(f"/api/v1/tickets/{shared['id']}", headers=li).get_json()
    assert not seen["can_cancel"] and not seen["can_reopen"] and not seen["can_rate"]
    names = {e["actor_name"] for e in seen["timeline"] if e["actor"] == "resident"}
    assert names == {"王*", "李*"}  # neighbours' names are masked, the follower's own too
    cancel = client.post(f"/api/v1/tickets/{shared['id']}/cancel", json={}, headers=li)
    assert (cancel.status_code, cancel.get_json()["error"]["code"]) == (403, "not_reporters_household")
    photo = client.post(f"/api/v1/tickets/{shared['id']}/photos", headers=li,
                        data={"file": (io.BytesIO(PNG), "a.png", "image/png")}, content_type="multipart/form-data")
    assert (photo.status_code, photo.get_json()["error"]["code"]) == (403, "not_reporters_household")
    dispatch.resolve(db_session, shared["id"], make_staff("property"), outcome="fixed")
    db_session.commit()
    reopen = client.post(f"/api/v1/tickets/{shared['id']}/reopen", json={"reason": "还是不亮"}, headers=li)
    assert (reopen.status_code, reopen.get_json()["error"]["code"]) == (403, "not_reporters_household")
    own = client.get(f"/api/v1/tickets/{shared['id']}", headers=wang).get_json()
    assert own["can_reopen"] and {e["actor_name"] for e in own["timeline"] if e["actor"] == "resident"} >= {"王阿姨"}


def test_the_chat_box_runs_the_same_dialog(client, wang):
    first = client.post("/api/v1/chat", json={"text": "3号楼电梯坏了"}, headers=wang).get_json()["reply"]
    assert "确认" in first and "3幢" in first
    done = client.post("/api/v1/chat", json={"text": "确认"}, headers=wang).get_json()["reply"]
    ticket = db.session.query(Ticket).one()
    assert ticket.number in done and ticket.source == "wxa"
    status = client.post("/api/v1/chat", json={"text": "我报修的进度"}, headers=wang).get_json()["reply"]
    assert ticket.number in status
    assert client.post("/api/v1/chat", json={}, headers=wang).status_code == 422


def test_the_chat_box_logs_messages_and_a_resend_acts_once(client, wang, db_session):
    from sqlalchemy import func, select

    from app.chat.models import Message
    from app.tickets.models import Ticket

    client.post("/api/v1/chat", json={"text": "3号楼电梯坏了", "client_msg_id": "m1"}, headers=wang)
    first = client.post("/api/v1/chat", json={"text": "确认", "client_msg_id": "m2"}, headers=wang).get_json()
    again = client.post("/api/v1/chat", json={"text": "确认", "client_msg_id": "m2"}, headers=wang).get_json()
    assert again == first and "单号" in first["reply"]
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 1
    logged = db_session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()
    assert [m.content for m in logged] == ["3号楼电梯坏了", "确认"] and logged[1].reply == first["reply"]


def test_a_building_the_community_does_not_have_is_refused(client, wang):
    answer = client.post("/api/v1/tickets", json={"kind": "repair", "description": "电梯坏了", "building": "99",
                                                  "place": "电梯", "category": "elevator"}, headers=wang)
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "unknown_building"
    assert answer.get_json()["error"]["details"] == {"field": "building"}
