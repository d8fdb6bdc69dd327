"""Console login limits (issue 16.7): per username at an address and per address, under parallel attempts,
and while Redis is down (counted in the database, so staff can still sign in).

The racing tests need PostgreSQL and Redis: each thread posts through its own test client, released
together by a barrier, and a password counts as checked when its answer is 401 (refused: 429)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
from console_forms import csrf_token, login
from flask.testing import FlaskClient
from jobs_for_tests import redis_down
from sqlalchemy import func, select

from app.community.models import LoginThrottle
from app.core.db import db
from app.core.redis_conn import get_redis
from console import ratelimit

OFFICE = "10.1.1.1"


def _try(client: FlaskClient, username: str, password: str, ip: str = OFFICE):
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/console/login", data=data, environ_base={"REMOTE_ADDR": ip})


def _all_at_once(app, attempts: list[tuple[str, str]], ip: str = OFFICE) -> list[int]:
    """Post every (username, password) at once from ip, each through its own client; the status codes."""
    clients = [app.test_client() for _ in attempts]
    for own in clients:
        csrf_token(own)  # each client's login page first, outside the race
    barrier = threading.Barrier(len(attempts))
    codes: list[int] = []

    def post(own: FlaskClient, username: str, password: str) -> None:
        data = {"username": username, "password": password, "csrf_token": csrf_token(own)}
        barrier.wait(timeout=10)
        codes.append(own.post("/console/login", data=data, environ_base={"REMOTE_ADDR": ip}).status_code)

    threads = [threading.Thread(target=post, args=(own, *pair)) for own, pair in zip(clients, attempts, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(codes) == len(attempts), "a login hung"
    return sorted(codes)


# ---- racing (PostgreSQL + Redis) -------------------------------------------------------------------

@pytest.mark.postgres
def test_forty_parallel_wrong_passwords_for_one_username_check_five(app, db_session, make_staff):
    """The audit's case: 40 at once checked 18 passwords; the limit is 5."""
    make_staff(username="li", password="right-password")
    db_session.commit()
    codes = _all_at_once(app, [("li", "wrong-password")] * 40)
    assert codes == [401] * ratelimit.MAX_FAILURES + [429] * (40 - ratelimit.MAX_FAILURES), Counter(codes)


@pytest.mark.postgres
def test_seven_usernames_four_times_each_from_one_address_check_twenty(app, db_session, make_staff):
    """The audit's case: 7 usernames × 4 from one address checked all 28 (no per-address limit)."""
    for i in range(7):
        make_staff(username=f"clerk{i}", password="right-password")
    db_session.commit()
    codes = _all_at_once(app, [(f"clerk{i}", "wrong-password") for i in range(7) for _ in range(4)])
    assert codes == [401] * ratelimit.MAX_FAILURES_PER_IP + [429] * (28 - ratelimit.MAX_FAILURES_PER_IP), Counter(codes)


@pytest.mark.postgres
def test_forty_parallel_wrong_passwords_while_redis_is_down_check_five(app, db_session, make_staff):
    make_staff(username="li", password="right-password")
    db_session.commit()
    with redis_down(app):
        codes = _all_at_once(app, [("li", "wrong-password")] * 40)
    assert codes == [401] * ratelimit.MAX_FAILURES + [429] * (40 - ratelimit.MAX_FAILURES), Counter(codes)


# ---- one after another (both passes) -----------------------------------------------------------------

def test_an_address_is_refused_after_twenty_failures_whatever_the_usernames(client, db_session, make_staff):
    for i in range(7):
        make_staff(username=f"clerk{i}", password="right-password")
    db_session.commit()
    answers = [_try(client, f"clerk{i}", "wrong-password").status_code for i in range(7) for _ in range(4)]
    assert answers == [401] * 20 + [429] * 8
    refused = _try(client, "clerk6", "right-password")  # even the right password, from this address
    assert refused.status_code == 429 and "这个网络的登录失败次数太多" in refused.get_data(as_text=True)
    assert _try(client, "clerk6", "right-password", ip="10.2.2.2").status_code == 303  # another address is not


def test_right_passwords_do_not_use_up_the_address(client, db_session, make_staff):
    """An office behind one address: its successful logins are no failures."""
    for i in range(10):
        make_staff(username=f"clerk{i}", password="right-password")
    db_session.commit()
    for i in range(19):
        assert _try(client, f"clerk{i % 10}", "wrong-password").status_code == 401
    for i in range(10):
        assert _try(client, f"clerk{i}", "right-password").status_code == 303
    last = _try(client, "clerk0", "wrong-password")
    assert last.status_code == 401 and "失败次数已达上限" in last.get_data(as_text=True)
    assert _try(client, "clerk1", "right-password").status_code == 429


def test_the_failure_hint_counts_down(client, make_staff):
    make_staff(username="li", password="right-password")
    hints = [_try(client, "li", "wrong-password").get_data(as_text=True) for _ in range(5)]
    for left, page in zip((4, 3, 2, 1), hints, strict=False):
        assert f"还可尝试 {left} 次" in page
    assert "失败次数已达上限" in hints[4]


def test_while_redis_is_down_staff_still_log_in_and_failures_are_counted_in_the_database(
        app, client, db_session, make_staff, clock):
    make_staff(username="li", password="right-password")
    db_session.commit()
    with redis_down(app):
        assert _try(client, "li", "right-password").status_code == 303
        client.post("/console/logout", data={"csrf_token": csrf_token(client)})
        for left in (4, 3, 2, 1, 0):
            page = _try(client, "li", "wrong-password")
            assert page.status_code == 401
            assert (f"还可尝试 {left} 次" if left else "失败次数已达上限") in page.get_data(as_text=True)
        locked = _try(client, "li", "right-password")
        assert locked.status_code == 429 and "登录失败次数太多" in locked.get_data(as_text=True)
        assert _try(client, "li", "right-password", ip="10.2.2.2").status_code == 303
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 4  # two users' and addresses'
        keys = db.session.scalars(select(LoginThrottle.key)).all()
        assert all(re.fullmatch(rf"{ratelimit.PREFIX}(ip:)?[0-9a-f]{{32}}", key) for key in keys)  # hashes only
        clock.shift(timedelta(seconds=ratelimit.WINDOW_SECONDS + 60))  # the window is over
        client.post("/console/logout", data={"csrf_token": csrf_token(client)})
        assert _try(client, "li", "right-password").status_code == 303
    assert not get_redis(app).keys(f"{ratelimit.PREFIX}*")  # nothing was counted in Redis


def test_while_redis_is_down_an_address_is_limited_too(app, client, db_session, make_staff):
    for i in range(7):
        make_staff(username=f"clerk{i}", password="right-password")
    db_session.commit()
    with redis_down(app):
        answers = [_try(client, f"clerk{i}", "wrong-password").status_code for i in range(7) for _ in range(4)]
    assert answers == [401] * 20 + [429] * 8


def test_counts_made_in_redis_live_there(client, app, make_staff):
    make_staff(username="li", password="right-password")
    for _ in range(2):
        _try(client, "li", "wrong-password")
    values = sorted(int(get_redis(app).get(key)) for key in get_redis(app).keys(f"{ratelimit.PREFIX}*"))
    assert values == [2, 2]  # the username at this address, and the address
    assert login(client, "li", "right-password").status_code == 303  # another address (the test client's)
    assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
