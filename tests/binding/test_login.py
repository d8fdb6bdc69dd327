"""POST /api/v1/login and the bearer token every other route needs."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from app.binding.models import MiniProgramSession
from miniprogram_api.tokens import SALT


def test_login_with_good_code_issues_token_and_keeps_session_key(app, client, db_session, fake_wechat):
    response = client.post("/api/v1/login", json={"code": "abc"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expires_in", "bound", "resident"}
    assert body["expires_in"] == app.config["API_TOKEN_MAX_AGE"]
    assert body["bound"] is False and body["resident"] is None
    row = db_session.scalar(select(MiniProgramSession).where(MiniProgramSession.openid == "wxa_abc"))
    assert row is not None and row.unionid == "union_abc" and row.session_key
    assert row.session_key not in response.get_data(as_text=True)
    assert fake_wechat.calls_to("jscode2session")[0].args["js_code"] == "abc"


def test_second_login_updates_the_one_session_row(client, db_session):
    for _ in range(2):
        assert client.post("/api/v1/login", json={"code": "abc"}).status_code == 200
    assert len(db_session.scalars(select(MiniProgramSession)).all()) == 1


def test_login_of_a_bound_resident_returns_them(client, make_resident):
    make_resident("30", "2", "1201", name="张大爷", phone="13900000001", wxa_openid="wxa_zhang")
    body = client.post("/api/v1/login", json={"code": "zhang"}).get_json()
    assert body["bound"] is True
    assert body["resident"]["name"] == "张大爷"
    assert body["resident"]["phone"] == "139****0001"
    assert body["resident"]["household"]["label"] == "30幢2单元1201"


def test_bad_code_is_a_clean_400(client, db_session):
    response = client.post("/api/v1/login", json={"code": "bad"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_login_code"
    assert "重新进入小程序" in response.get_json()["error"]["message"]
    assert db_session.scalars(select(MiniProgramSession)).all() == []


def test_wechat_failure_at_login_is_502_not_500(client, fake_wechat):
    fake_wechat.fail_next("jscode2session", 40013, errmsg="invalid appid")
    response = client.post("/api/v1/login", json={"code": "abc"})
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "wechat_error"


def test_login_without_code_or_with_wrong_type_is_422(client):
    missing = client.post("/api/v1/login", json={})
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "missing_field"
    wrong = client.post("/api/v1/login", json={"code": 123})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "invalid_field"


def test_me_without_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_missing"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_forged_token_is_401(client):
    forged = URLSafeTimedSerializer("not-our-secret", salt=SALT).dumps({"openid": "wxa_abc"})
    for header in (f"Bearer {forged}", "Bearer garbage", f"Token {forged}"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).get_json()["error"]["code"] \
        == "token_invalid"


def test_expired_token_is_401(app, client):
    class _OldSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - app.config["API_TOKEN_MAX_AGE"] - 60

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT, signer=_OldSigner).dumps({"openid": "wxa_abc"})
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_expired"


def test_token_from_login_opens_me(client, login):
    response = client.get("/api/v1/me", headers=login("abc"))
    assert response.status_code == 200
    assert response.get_json() == {"bound": False, "resident": None, "pending_binding": None}
