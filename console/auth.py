"""Console sign-in: login and logout pages, the signed-in staff member on g, and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from app.community.models import Staff
from app.community.staff import authenticate, end_sessions
from app.core.clock import unix_seconds
from app.core.db import db, unit_of_work
from app.core.errors import Forbidden, Unauthorized
from console import ratelimit
from console.blueprint import bp
from console.csrf import check_csrf, csrf_token, rotate_token
from console.nav import nav_for

SESSION_STAFF = "staff_id"
SESSION_LOGIN_AT = "login_at"
SESSION_VERSION = "staff_version"
SESSION_MAX_AGE_SECONDS = 12 * 3600  # one working day, then sign in again
PUBLIC_ENDPOINTS = frozenset({"console.login", "console.static"})


def current_staff() -> Staff | None:
    """The staff member signed in for this request, if any."""
    return g.get("staff")


def _end_session(message: str | None = None) -> None:
    session.clear()
    if message:
        flash(message, "error")


def load_staff() -> ResponseReturnValue | None:
    """Put the signed-in staff member on g.staff; send anyone else to the login page."""
    g.staff = None
    if request.endpoint == "console.static":
        return None  # stylesheets and scripts need no database lookup
    staff_id = session.get(SESSION_STAFF)
    if staff_id is not None:
        staff = db.session.get(Staff, staff_id)
        age = unix_seconds() - float(session.get(SESSION_LOGIN_AT) or 0)
        if staff is None or not staff.active:
            _end_session("该账号已停用，请联系管理员")
        elif session.get(SESSION_VERSION) != staff.session_version:
            _end_session("您已退出登录或修改了密码，请重新登录")
        elif age > SESSION_MAX_AGE_SECONDS:
            _end_session("登录已超时，请重新登录")
        else:
            g.staff = staff
    if g.staff is not None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.path.startswith("/console/api/"):
        raise Unauthorized()
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("console.login", next=target))


def require_role(*roles: str) -> Callable:
    """Decorate a console view so only the listed staff roles may use it (others get 403)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                raise Unauthorized()
            if staff.role not in roles:
                raise Forbidden("您的岗位没有权限访问这个页面", code="role_forbidden")
            return view(*args, **kwargs)

        guarded.required_roles = roles
        return guarded

    return decorate


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the console may be a redirect target after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or not parts.path.startswith("/console"):
        return None
    return target.rstrip("?")


def _login_page(message: str | None, status: int, username: str = "", next_url: str | None = None):
    return render_template("console/login.html", error=message, username=username, next=next_url), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on POST check the password, the rate limit and the account."""
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(next_url or url_for("console.dashboard"))
        return _login_page(None, 200, next_url=next_url)
    username = request.form.get("username", "").strip()[:50]
    password = request.form.get("password", "")
    if not username or not password:
        return _login_page("请输入用户名和密码", 400, username, next_url)
    app, ip = current_app._get_current_object(), request.remote_addr or "unknown"
    attempt = ratelimit.count_attempt(app, db.session, username, ip)  # RateLimited past a limit
    db.session.commit()  # counted before the password is checked (while Redis is down, in the database)
    try:
        staff = authenticate(db.session, username, password)
    except Unauthorized as err:
        left = attempt.left
        if left <= 0:
            hint = f"（失败次数已达上限，请 {ratelimit.WINDOW_SECONDS // 60} 分钟后再试）"
        else:
            hint = f"（还可尝试 {left} 次）"
        return _login_page(err.message + hint, 401, username, next_url)
    except Forbidden as err:
        ratelimit.forgive(app, db.session, attempt)  # the password was right
        db.session.commit()
        return _login_page(err.message, 403, username, next_url)
    ratelimit.forgive(app, db.session, attempt)
    db.session.commit()
    session.clear()  # nothing from before the login survives it
    session[SESSION_STAFF] = staff.id
    session[SESSION_VERSION] = staff.session_version
    session[SESSION_LOGIN_AT] = int(unix_seconds())
    rotate_token()
    return redirect(next_url or url_for("console.dashboard"), code=303)


@bp.post("/logout")
@unit_of_work
def logout():
    """End the session here and everywhere (the staff member's older cookies stop working too)."""
    staff = current_staff()
    if staff is not None:
        end_sessions(staff)
    _end_session()
    flash("您已退出登录", "info")
    return redirect(url_for("console.login"), code=303)


# Order matters: who is signed in is known before the CSRF check and the views run.
bp.before_request(load_staff)
bp.before_request(check_csrf)


@bp.app_context_processor
def _console_globals() -> dict:
    return {"csrf_token": csrf_token, "nav_for": nav_for, "current_staff": current_staff}
