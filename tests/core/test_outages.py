"""With the database unreachable, every door answers 503 with a retry hint, never a 500 or an empty page."""

from __future__ import annotations

import socket

import pytest

import config as settings
from app import create_app
from miniprogram_api.tokens import issue_token


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_without_database(fake_wechat):
    config = settings.TestConfig(database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/test")
    config.WECHAT_API_BASE_URL = fake_wechat.base_url
    config.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 2}}
    return create_app(config)


def test_the_api_answers_503_with_retry_after(app_without_database):
    with app_without_database.app_context():
        token = issue_token("wxa_anyone")
    client = app_without_database.test_client()
    response = client.post("/api/v1/tickets", json={"kind": "repair", "description": "水管漏水", "at_home": True},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "database_unavailable"


def test_readyz_says_what_is_down(app_without_database):
    response = app_without_database.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("unreachable")


def test_a_console_page_answers_503(app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as session:
        session["staff_id"] = 1
    response = client.get("/console/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5" and "稍后再试" in response.get_data(as_text=True)
