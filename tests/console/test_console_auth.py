"""Console sign-in: passwords, rate limit, inactive accounts, sessions, CSRF and the HTML error pages."""

from __future__ import annotations

from console_forms import csrf_token, login, post

from app.core.db import db


def test_login_with_right_password_opens_the_dashboard(client, make_staff):
    staff = make_staff("property", username="li", password="right-password")
    resp = login(client, "li", "right-password")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/console/")
    page = client.get("/console/")
    assert page.status_code == 200
    assert staff.name in page.get_data(as_text=True)
    assert "概览" in page.get_data(as_text=True)


def test_password_is_stored_hashed(make_staff):
    staff = make_staff(password="right-password")
    assert "right-password" not in staff.password_hash
    assert staff.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_staff):
    make_staff(username="li", password="right-password")
    wrong = login(client, "li", "wrong-password")
    unknown = login(client, "nobody", "right-password")
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        assert "用户名或密码不正确" in resp.get_data(as_text=True)
    assert client.get("/console/").status_code == 302  # still signed out


def test_empty_form_is_a_400_with_a_message(client):
    resp = login(client, "", "")
    assert resp.status_code == 400
    assert "请输入用户名和密码" in resp.get_data(as_text=True)


def test_five_failures_lock_the_username_for_this_ip(client, make_staff):
    make_staff(username="li", password="right-password")
    for _ in range(5):
        assert login(client, "li", "wrong-password").status_code == 401
    locked = login(client, "li", "right-password")
    assert locked.status_code == 429
    body = locked.get_data(as_text=True)
    assert "登录失败次数太多" in body and "<html" in body
    assert client.get("/console/").status_code == 302
    # Another address is not locked out by this one's failures.
    data = {"username": "li", "password": "right-password", "csrf_token": csrf_token(client)}
    other = client.post("/console/login", data=data, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 303


def test_a_success_clears_the_failure_count(client, make_staff):
    make_staff(username="li", password="right-password")
    for _ in range(4):
        login(client, "li", "wrong-password")
    assert login(client, "li", "right-password").status_code == 303
    client.post("/console/logout", data={"csrf_token": csrf_token(client)})
    for _ in range(4):
        assert login(client, "li", "wrong-password").status_code == 401
    assert login(client, "li", "right-password").status_code == 303


def test_inactive_staff_cannot_log_in(client, make_staff):
    staff = make_staff(username="li", password="right-password")
    staff.active = False
    db.session.flush()
    resp = login(client, "li", "right-password")
    assert resp.status_code == 403
    assert "已停用" in resp.get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_deactivating_ends_an_open_session(client, make_staff):
    staff = make_staff(username="li", password="right-password")
    login(client, "li", "right-password")
    assert client.get("/console/").status_code == 200
    staff.active = False
    db.session.flush()
    resp = client.get("/console/")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]
    assert "已停用" in client.get("/console/login").get_data(as_text=True)


def test_logout_ends_the_session(client, make_staff):
    make_staff(username="li", password="right-password")
    login(client, "li", "right-password")
    resp = post(client, "/console/logout")
    assert resp.status_code == 303
    assert client.get("/console/").status_code == 302


def test_signed_out_visitor_is_sent_to_login_and_back(client, make_staff):
    make_staff(username="li", password="right-password")
    resp = client.get("/console/residents?q=1")
    assert resp.status_code == 302
    assert "/console/login?next=" in resp.headers["Location"]
    back = login(client, "li", "right-password", next="/console/residents?q=1")
    assert back.headers["Location"].endswith("/console/residents?q=1")


def test_next_cannot_leave_the_console(client, make_staff):
    make_staff(username="li", password="right-password")
    for target in ("https://evil.example/", "//evil.example/console", "/api/v1/me", "/\\evil.example"):
        resp = login(client, "li", "right-password", next=target)
        assert resp.status_code == 303
        assert resp.headers["Location"].endswith("/console/"), target
        post(client, "/console/logout")


def test_session_cookie_is_httponly_and_samesite_lax(client, make_staff):
    make_staff(username="li", password="right-password")
    resp = login(client, "li", "right-password")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_cookie_follows_the_config(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    resp = client.get("/console/login")  # the page's CSRF token starts a session
    assert "Secure" in resp.headers["Set-Cookie"]


def test_overlong_password_is_refused_without_hashing(client, make_staff):
    make_staff(username="li", password="right-password")
    resp = login(client, "li", "x" * 100_000)
    assert resp.status_code == 401


def test_session_expires_after_a_working_day(client, make_staff):
    make_staff(username="li", password="right-password")
    login(client, "li", "right-password")
    with client.session_transaction() as sess:
        sess["login_at"] -= 13 * 3600
    resp = client.get("/console/")
    assert resp.status_code == 302
    assert "登录已超时" in client.get("/console/login").get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, make_staff):
    make_staff(username="li", password="right-password")
    resp = client.post("/console/login", data={"username": "li", "password": "right-password"})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "请刷新页面后重试" in body and "<html" in body
    assert client.get("/console/").status_code == 302


def test_forged_csrf_token_is_refused(client, make_staff):
    make_staff(username="li", password="right-password")
    login(client, "li", "right-password")
    resp = client.post("/console/logout", data={"csrf_token": "forged-" + "x" * 40})
    assert resp.status_code == 400
    assert "请刷新页面后重试" in resp.get_data(as_text=True)
    assert client.get("/console/").status_code == 200  # the forged logout did nothing


def test_token_from_before_login_is_worthless_after_it(client, make_staff):
    make_staff(username="li", password="right-password")
    before = csrf_token(client)
    login(client, "li", "right-password")
    resp = client.post("/console/logout", data={"csrf_token": before})
    assert resp.status_code == 400


def test_unknown_console_page_is_an_html_404(client, make_staff):
    resp = client.get("/console/no-such-page")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "页面不存在" in resp.get_data(as_text=True)


def test_wrong_method_on_a_console_page_is_html(client, make_staff):
    make_staff(username="li", password="right-password")
    login(client, "li", "right-password")
    resp = client.get("/console/logout")
    assert resp.status_code == 405
    assert resp.mimetype == "text/html"


def test_paths_outside_the_console_keep_json_errors(client):
    resp = client.get("/no-such-place")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_console_api_answers_json_when_signed_out(client):
    resp = client.post("/console/api/bindings/1/approve")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
