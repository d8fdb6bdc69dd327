"""Console tickets: the queue page, the ticket page's actions, and the staff JSON API with scope and CSRF."""

from __future__ import annotations

import io

import pytest
from console_forms import csrf_token, login, post
from PIL import Image
from sqlalchemy import select

from app.core.db import db
from app.notify.models import Notification
from app.tickets import tickets
from app.tickets.models import Ticket
from app.tickets.tickets import Location


@pytest.fixture
def report(db_session, make_resident):
    def make(building="3", text="3幢电梯坏了", category="elevator", resident=None, urgent=None):
        resident = resident or make_resident(building, "1", "101")
        ticket = tickets.create_ticket(db_session, resident=resident, kind="repair", category=category,
                                       description=text, location=Location(building=building, place="电梯"),
                                       urgent=urgent)
        db_session.commit()
        return ticket

    return make


@pytest.fixture
def signed_in(client, make_staff, db_session):
    def sign_in(role="property", buildings=None, username=None):
        staff = make_staff(role, password="right-password", buildings=buildings, username=username)
        db_session.commit()
        client.get("/console/logout")
        assert login(client, staff.username, "right-password").status_code == 303
        return staff

    return sign_in


def _api(client, path, body=None):
    return client.post(path, json=body or {}, headers={"X-CSRF-Token": csrf_token(client)})


def test_queue_puts_urgent_first_and_shows_sla(client, report, signed_in):
    normal = report()
    urgent = report(text="3幢电梯困人", urgent=True)
    signed_in()
    page = client.get("/console/tickets").get_data(as_text=True)
    assert page.index(urgent.number) < page.index(normal.number)
    assert "紧急" in page and "未超时" in page
    listed = client.get("/console/api/tickets").get_json()["tickets"]
    assert [t["id"] for t in listed] == [urgent.id, normal.id]
    assert [t["sla"] for t in listed] == ["due_soon", "ok"]  # 30 min for urgent ones


def test_accept_assign_progress_resolve_through_the_api(client, report, signed_in, make_staff, db_session,
                                                        tmp_path, app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    ticket = report()
    worker = make_staff("repair_worker", buildings=["3"])
    signed_in()
    assert _api(client, f"/console/api/tickets/{ticket.id}/accept", {"note": "收到"}).get_json()["status"] == "accepted"
    again = _api(client, f"/console/api/tickets/{ticket.id}/accept")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_accepted"
    assigned = _api(client, f"/console/api/tickets/{ticket.id}/assign", {"assignee_id": worker.id}).get_json()
    assert assigned["assignee"] == worker.name and assigned["status"] == "assigned"
    assert _api(client, f"/console/api/tickets/{ticket.id}/progress", {"note": ""}).status_code == 422
    _api(client, f"/console/api/tickets/{ticket.id}/progress", {"note": "师傅已到现场"})
    no_reason = _api(client, f"/console/api/tickets/{ticket.id}/resolve", {"outcome": "not_fixed"})
    assert no_reason.status_code == 422 and no_reason.get_json()["error"]["code"] == "reason_required"
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 6), "green").save(jpeg, "JPEG")
    photo = (io.BytesIO(jpeg.getvalue()), "after.jpg", "image/jpeg")
    form = {"outcome": "fixed", "note": "更换门机板", "photos": photo}
    done = post(client, f"/console/tickets/{ticket.id}/resolve", form, content_type="multipart/form-data")
    assert done.status_code == 303
    detail = client.get(f"/console/api/tickets/{ticket.id}").get_json()
    assert detail["status"] == "resolved" and detail["outcome"] == "fixed"
    assert [p["stage"] for p in detail["photos"]] == ["after"]
    assert [e["kind"] for e in detail["timeline"] if e["kind"] not in ("alerted", "photo")] == [
        "created", "accepted", "assigned", "progress", "resolved"]
    served = client.get(detail["photos"][0]["url"])
    assert served.mimetype == "image/jpeg" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
    told = db.session.scalars(select(Notification.text).where(Notification.resident_id == ticket.resident_id)
                              .order_by(Notification.id)).all()  # PostgreSQL returns updated rows in any order
    assert len(told) == 4 and "已修好" in told[-1]


def test_grab_mode_first_worker_wins(client, report, signed_in, make_staff):
    ticket = report()
    other = make_staff("repair_worker")
    signed_in("repair_worker")
    assert _api(client, f"/console/api/tickets/{ticket.id}/grab").get_json()["status"] == "assigned"
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assignee_id != other.id
    lost = _api(client, f"/console/api/tickets/{ticket.id}/grab")
    assert lost.status_code == 409 and lost.get_json()["error"]["code"] == "already_taken"


def test_staff_outside_the_building_or_role_see_nothing(client, report, signed_in):
    ticket = report()
    signed_in(buildings=["9"])
    assert client.get("/console/api/tickets").get_json()["tickets"] == []
    assert client.get(f"/console/api/tickets/{ticket.id}").status_code == 404
    assert _api(client, f"/console/api/tickets/{ticket.id}/accept").status_code == 404
    assert client.get(f"/console/tickets/{ticket.id}").status_code == 404
    signed_in("doctor")
    assert client.get("/console/api/tickets").status_code == 403


def test_posts_need_the_csrf_token(client, report, signed_in):
    ticket = report()
    signed_in()
    assert client.post(f"/console/api/tickets/{ticket.id}/accept", json={}).status_code == 400
    assert client.post(f"/console/tickets/{ticket.id}/accept").status_code == 400


def test_form_errors_come_back_as_a_flash(client, report, signed_in):
    ticket = report()
    signed_in()
    response = post(client, f"/console/tickets/{ticket.id}/resolve", {"outcome": "not_ours"}, follow_redirects=True)
    assert "请写明原因" in response.get_data(as_text=True)
