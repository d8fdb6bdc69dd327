"""Sessions end for real, tokens can be revoked, and every response carries the security headers."""

from __future__ import annotations

from console_forms import login, post

from app.binding.bindings import revoke_tokens
from app.community.models import Resident
from app.community.staff import set_password


def test_a_cookie_stops_working_after_logout(app, client, make_staff, db_session):
    make_staff("property", username="kefu")
    db_session.commit()
    assert login(client, "kefu").status_code == 303
    with client.session_transaction() as saved:
        stolen = dict(saved)  # what an attacker copied while the staff member was signed in
    assert client.get("/console/").status_code == 200
    assert post(client, "/console/logout").status_code == 303
    with client.session_transaction() as replay:
        replay.update(stolen)
    again = client.get("/console/")
    assert again.status_code == 302 and "/console/login" in again.headers["Location"]


def test_a_password_change_ends_the_other_sessions(app, client, make_staff, db_session):
    staff = make_staff("property", username="kefu2")
    db_session.commit()
    login(client, "kefu2")
    assert client.get("/console/").status_code == 200
    set_password(db_session, staff, "a-new-long-password")
    db_session.commit()
    assert client.get("/console/").status_code == 302


def test_revoked_mini_program_tokens_are_refused(client, db_session, make_resident, login):
    make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang")
    db_session.commit()
    headers = login("wang")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    resident = db_session.query(Resident).filter_by(wxa_openid="wxa_wang").one()
    assert revoke_tokens(db_session, resident)
    db_session.commit()
    refused = client.get("/api/v1/me", headers=headers)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (401, "token_revoked")
    assert client.get("/api/v1/me", headers=login("wang")).status_code == 200  # signing in again works


def test_security_headers(client, make_staff, db_session):
    make_staff("property", username="kefu3")
    db_session.commit()
    page = client.get("/console/login")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "same-origin" and page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/me")
    assert api.headers["Cache-Control"] == "no-store" and api.headers["X-Content-Type-Options"] == "nosniff"
    static = client.get("/console/static/console.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    echo = client.get("/wechat", query_string={"echostr": "<script>1</script>"})
    assert echo.headers["X-Content-Type-Options"] == "nosniff"
