"""Binding codes guessed in parallel (issue 16.7): at most 5 codes are ever compared per binding request,
however many tries arrive at once, and the count adds up across requests.

The racing test needs PostgreSQL: each thread posts through its own test client (its own session),
released together by a barrier; a code counts as compared when its answer is bad_binding_code."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from app.binding import bindings as svc
from app.binding.models import Binding
from app.core.db import db


@pytest.fixture
def pending(db_session, make_resident, login):
    """王阿姨 on the roster and a pending binding of the mini-program user wxa_wang to her.

    Returns (headers, binding id, code)."""
    make_resident("30", "2", "1201", name="王阿姨", phone="13912345678")
    binding = svc.start_binding(db_session, channel="wxa", openid="wxa_wang", building="30", unit="2",
                                room="1201", phone="13912345678")
    db_session.commit()
    return login("wang"), binding.id, binding.code


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _confirm(client, headers: dict, code: str):
    return client.post("/api/v1/me/binding/confirm", json={"code": code}, headers=headers)


def _binding(binding_id: int) -> Binding:
    db.session.expire_all()
    return db.session.get(Binding, binding_id)


@pytest.mark.postgres
def test_sixty_parallel_wrong_codes_compare_five(app, pending):
    """The audit's case: 60 at once compared 41 codes; the limit is 5 attempts."""
    headers, binding_id, code = pending
    barrier = threading.Barrier(60)
    answers: list[tuple[int, str]] = []

    def post() -> None:
        own = app.test_client()
        barrier.wait(timeout=10)
        response = _confirm(own, headers, _wrong(code))
        answers.append((response.status_code, response.get_json()["error"]["code"]))

    threads = [threading.Thread(target=post) for _ in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 60, "a request hung"
    seen = Counter(answers)
    assert seen[(422, "bad_binding_code")] == svc.MAX_CODE_ATTEMPTS, seen
    assert seen[(429, "binding_locked")] == 1, seen  # the sixth locks the request ...
    assert seen[(404, "no_pending_binding")] == 60 - svc.MAX_CODE_ATTEMPTS - 1, seen  # ... the rest find none open
    stored = _binding(binding_id)
    assert stored.status == "expired" and stored.attempts == svc.MAX_CODE_ATTEMPTS + 1


def test_wrong_codes_add_up_across_requests_and_then_even_the_right_one_is_refused(client, pending):
    headers, binding_id, code = pending
    for left in (4, 3, 2, 1, 0):
        bad = _confirm(client, headers, _wrong(code))
        assert bad.status_code == 422 and f"还可以再试{left}次" in bad.get_json()["error"]["message"]
    assert _binding(binding_id).attempts == 5
    locked = _confirm(client, headers, code)
    assert locked.status_code == 429 and locked.get_json()["error"]["code"] == "binding_locked"
    assert _binding(binding_id).status == "expired"
    assert _confirm(client, headers, code).get_json()["error"]["code"] == "no_pending_binding"
    assert client.get("/api/v1/me", headers=headers).get_json()["bound"] is False


def test_a_new_request_starts_a_new_count(client, db_session, pending):
    headers, _, code = pending
    for _ in range(6):
        _confirm(client, headers, _wrong(code))
    again = client.post("/api/v1/me/binding", headers=headers, json={
        "building": "30", "unit": "2", "room": "1201", "phone": "13912345678"})
    assert again.status_code == 202
    fresh = db_session.scalar(select(Binding).where(Binding.openid == "wxa_wang", Binding.status == "pending"))
    assert fresh.attempts == 0
    assert _confirm(client, headers, _wrong(fresh.code)).status_code == 422
    ok = _confirm(client, headers, fresh.code)
    assert ok.status_code == 200 and ok.get_json()["bound"] is True


def test_the_right_code_within_the_limit_binds(client, pending):
    headers, binding_id, code = pending
    for _ in range(4):
        assert _confirm(client, headers, _wrong(code)).status_code == 422
    assert _confirm(client, headers, code).status_code == 200
    assert _binding(binding_id).status == "confirmed"
