"""Helpers for /api/v1 tests: log a mini-program user in through the fake WeChat API."""

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
