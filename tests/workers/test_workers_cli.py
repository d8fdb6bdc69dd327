"""`flask worker` / `python -m workers` and `devserver.py`, run as the subprocesses they are in real life."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from jobs_for_tests import runs

from app.core.outbox import enqueue

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def _env(**values: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "REDIS_", "DATABASE_", "WECHAT_"))}
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []  # e.g. the moved clock
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT), *inherited])  # tests/: jobs_for_tests
    env["LINLI_ENV"] = "development"  # the development secrets, as `make run` has them
    env.update({k: v for k, v in values.items() if v is not None})
    return env


def _worker_commands() -> list[list[str]]:
    return [[PY, "-m", "flask", "--app", "wsgi", "worker", "--burst"], [PY, "-m", "workers", "--burst"]]


def test_worker_burst_processes_a_queued_job(app, db_session, fake_wechat, tmp_path):
    if not app.config["REDIS_URL"]:  # embedded mode: both entry points refuse, saying why
        for command in _worker_commands():
            done = subprocess.run(command, cwd=ROOT, env=_env(DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}"),
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode != 0
            assert "REDIS_URL is not set" in done.stderr
        return

    env = _env(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               WECHAT_API_BASE_URL=fake_wechat.base_url)
    for number, command in enumerate(_worker_commands()):
        tag = f"subprocess-{number}"
        enqueue(db_session, "jobs_for_tests.record", tag)
        db_session.commit()
        assert runs(db_session, tag) == 0  # queued on Redis, nobody working yet
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert runs(db_session, tag) == 1


def test_worker_rejects_an_unknown_queue(app):
    result = app.test_cli_runner().invoke(args=["worker", "--queues", "high,urgent", "--burst"])
    assert result.exit_code != 0
    assert "urgent" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_devserver_starts_from_a_migrated_database_and_answers_health(tmp_path):
    env = _env(DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}", PORT=str(_free_port()), HOST="127.0.0.1")
    migrated = subprocess.run([PY, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr[-2000:]

    base = f"http://127.0.0.1:{env['PORT']}"
    server = subprocess.Popen([PY, "devserver.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.monotonic() + 30, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, "devserver did not come up"
        assert health.json() == {"status": "ok"}
        ready = requests.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["checks"]["redis"] == "ok (embedded)"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output[-2000:]
    for url in ("/wechat", "/api/v1/openapi.json", "/console/", "/healthz", "/readyz"):
        assert f"{base}{url}" in output
    assert "fake WeChat API      http://127.0.0.1:" in output
    assert "flask --app wsgi chat" in output


def test_worker_says_so_when_redis_is_unreachable(app):
    from jobs_for_tests import redis_down

    with redis_down(app):
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    expected = "cannot reach Redis" if app.config["REDIS_URL"] else "REDIS_URL is not set"
    assert expected in result.output
