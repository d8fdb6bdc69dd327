"""Shared fixtures: one app per run on the chosen backends, cleaned after every test.

Tests live beside the feature they test (tests/<feature>/), as the code does (app/<feature>/);
helpers every feature's tests use sit at tests/ (wechat_post, clinic_world, parking_setup, clock,
console_forms, jobs_for_tests) and fixtures in tests/plugins/. Markers say what a test needs.

Backends: SQLite in memory + fakeredis by default; PostgreSQL and Redis when
TEST_DATABASE_URL / TEST_REDIS_URL are set (make test runs both).
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from app.community.models import Building, Community, Household, Resident, Staff, Unit
from app.core.db import db
from app.core.outbox import QUEUES, get_queue, relay
from app.core.redis_conn import get_redis
from config import TestConfig

# Fixtures shared across features: mini-program logins and the wish tests' people, headless Chromium
# with a live server, signed posts to /wechat and WeChat Work switched on (tests/plugins/).
pytest_plugins = ["plugins.api_people", "plugins.browser", "plugins.wechat_doors"]


@pytest.fixture(scope="session")
def fake_wechat():
    """The fake WeChat API on loopback; records every call it receives."""
    from fakewechat import FakeWeChat

    fake = FakeWeChat()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()


def _reset_schema() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _worker_backends() -> tuple[str | None, str | None]:
    """Under pytest-xdist, each worker gets a PostgreSQL database and a Redis db of its own (test_gw1,
    redis db n+1), so the backend pass can run on both cores; without xdist, the URLs as given."""
    database, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not worker[2:].isdigit():
        return database, redis_url
    n = int(worker[2:])
    if database and database.startswith("postgres") and n:
        import psycopg
        from psycopg import sql

        base, _, name = database.rpartition("/")
        own = f"{name}_gw{n}"
        with psycopg.connect(database, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(own)))
        database = f"{base}/{own}"
    if redis_url and n:
        base, _, index = redis_url.rpartition("/")
        redis_url = f"{base}/{int(index or 0) + n}" if index.isdigit() else redis_url
    return database, redis_url


@pytest.fixture(scope="session")
def _app(fake_wechat):
    database, redis_url = _worker_backends()
    config = TestConfig(database_url=database, redis_url=redis_url)
    config.WECHAT_API_BASE_URL = fake_wechat.base_url
    application = create_app(config)
    with application.app_context():
        _reset_schema()
        upgrade()
    return application


@pytest.fixture
def app(_app, fake_wechat):
    """The app inside an app context; every table, Redis and the fake are emptied afterwards."""
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
    get_redis(_app).flushdb()
    fake_wechat.reset()
    shutil.rmtree(_app.config["WECHAT_JOURNAL_DIR"], ignore_errors=True)  # what a test left in the journal


SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout (the team's shared files: the NLU contract, public test sets).

    A clone without it skips the tests that read it, naming the folder; under CI=true they fail."""
    if not (SHARED_DIR / "external").is_dir():
        message = f"{SHARED_DIR} is absent (the team's shared folder, laid beside the checkout)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DIR


@pytest.fixture
def clock():
    """The one clock, to move: clock.at(23, 30) is tonight 23:30 in Shanghai (see tests/clock.py)."""
    from clock import Clock, travel_from_now

    with travel_from_now() as traveller:
        yield Clock(traveller)


@pytest.fixture
def db_session(app):
    """The session the app uses in this context."""
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run_jobs(app):
    """Relay the outbox and, on real Redis, run every queued job in this process."""

    def run() -> int:
        relayed = relay(app)
        if app.config.get("REDIS_URL"):
            from rq import SimpleWorker

            queues = [get_queue(app, name) for name in QUEUES]
            # with_scheduler: due scheduled jobs (run_at reached on the moved clock) are queued first
            SimpleWorker(queues, connection=get_redis(app)).work(burst=True, with_scheduler=True)
        return relayed

    return run


_seq = itertools.count(1)


@pytest.fixture
def make_community(db_session):
    def make(name: str | None = None, kind: str = "standard") -> Community:
        community = Community(name=name or f"测试小区{next(_seq)}", kind=kind)
        db_session.add(community)
        db_session.flush()
        return community

    return make


@pytest.fixture
def make_household(db_session, make_community):
    """make_household(building="30", unit="2", room="1201") -> Household, creating what is missing."""
    cache: dict = {}

    def make(building: str = "1", unit: str = "1", room: str = "101", community: Community | None = None):
        community = community or cache.get("community") or make_community()
        cache.setdefault("community", community)
        b = db_session.query(Building).filter_by(community_id=community.id, number=building).one_or_none()
        if b is None:
            position = int(building) if building.isdigit() else 0
            b = Building(community_id=community.id, number=building, position=position)
            db_session.add(b)
            db_session.flush()
        u = db_session.query(Unit).filter_by(building_id=b.id, number=unit).one_or_none()
        if u is None:
            u = Unit(building_id=b.id, number=unit)
            db_session.add(u)
            db_session.flush()
        h = db_session.query(Household).filter_by(unit_id=u.id, room=room).one_or_none()
        if h is None:
            h = Household(unit_id=u.id, room=room)
            db_session.add(h)
            db_session.flush()
        return h

    make.cache = cache
    return make


@pytest.fixture
def make_resident(db_session, make_household):
    """make_resident(building="30", openid="o_x", birth_year=1950) -> Resident."""

    def make(building: str = "1", unit: str = "1", room: str = "101", *, name: str = "王阿姨",
             phone: str | None = None, birth_year: int | None = 1960, role: str = "owner",
             openid: str | None = None, wxa_openid: str | None = None, community=None) -> Resident:
        household = make_household(building, unit, room, community=community)
        n = next(_seq)
        resident = Resident(
            community_id=household.unit.building.community_id, household_id=household.id, name=name,
            phone=phone or f"138{n:08d}", birth_year=birth_year, role=role,
            oa_openid=openid, wxa_openid=wxa_openid,
        )
        db_session.add(resident)
        db_session.flush()
        return resident

    return make


@pytest.fixture
def make_staff(db_session, make_community):
    """make_staff(role="property", password="pw") -> Staff with a hashed password."""
    from werkzeug.security import generate_password_hash

    def make(role: str = "property", *, username: str | None = None, password: str = "secret-pass",
             buildings: list[str] | None = None, community=None) -> Staff:
        community = community or db_session.query(Community).first() or make_community()
        staff = Staff(community_id=community.id, username=username or f"staff{next(_seq)}", name="李师傅",
                      role=role, password_hash=generate_password_hash(password), building_scope=buildings or [])
        db_session.add(staff)
        db_session.flush()
        return staff

    return make


def pytest_collection_modifyitems(config, items):
    """The first pass leaves out tests marked postgres; the second (real PostgreSQL + Redis) runs only
    the tests that touch a backend."""
    for item in items:  # what a test needs, said by the fixtures it asks for
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker("browser")
        if "shared_dir" in getattr(item, "fixturenames", ()):
            item.add_marker("shared")
    if os.environ.get("LINLI_BACKEND_PASS") != "1":
        dropped = [item for item in items if item.get_closest_marker("postgres")]
        if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
            dropped = []  # someone pointed a single run at PostgreSQL: everything applies
    else:
        if not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")):
            raise pytest.UsageError("the backend pass needs TEST_DATABASE_URL and TEST_REDIS_URL")
        dropped = [item for item in items if "_app" not in getattr(item, "fixturenames", ())
                   and not item.get_closest_marker("postgres")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
