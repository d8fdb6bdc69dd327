"""Helpers for /api/v1 tests: log a mini-program user in through the fake WeChat API; the wish tests' people.

Test modules may define their own `wang` or `zhao` (parking, tickets): a module's fixture wins over these.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def login(client):
    """login("abc") -> Authorization headers for the mini-program user wxa_abc."""

    def do(code: str = "abc") -> dict:
        response = client.post("/api/v1/login", json={"code": code})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return do


# ----- the wish tests' community and people -------------------------------------------------------

@pytest.fixture
def community(make_community):
    return make_community("和睦新村", kind="old_neighbourhood")


@pytest.fixture
def wang(make_resident, db_session, login, community):
    """王阿姨 of 3幢2单元1201 signed in to the mini-program (and the author in the wish tests); returns her headers."""
    make_resident("3", "2", "1201", name="王阿姨", wxa_openid="wxa_wang", community=community)
    db_session.commit()
    return login("wang")


@pytest.fixture
def zhao(make_resident, db_session, login, community, wang):
    make_resident("5", "1", "101", name="赵大爷", wxa_openid="wxa_zhao", community=community)
    db_session.commit()
    return login("zhao")


@pytest.fixture
def committee(make_staff, community, db_session):
    staff = make_staff("committee", community=community)
    db_session.commit()
    return staff
