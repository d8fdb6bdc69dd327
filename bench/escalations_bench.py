"""Escalation queue benchmark: 10,000 escalated conversations on PostgreSQL; p50/p99 of the queue and one view.

    .venv/bin/python bench/escalations_bench.py [--conversations 10000] [--requests 300]

Seeds residents in 40 buildings, one conversation each with 12 messages, and one escalation per
conversation (a mix of waiting, with_staff, resolved, urgent and breached), then times the queue page
(every filter), its polling JSON and the conversation view through the Flask test client, signed in as a
whole-community admin and as a staff member scoped to 2 buildings. It drops and recreates the bench
database's schema: point it only at a bench database (default lin_e, Redis db 9).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/lin_e"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"


def build_app(db_url: str, redis_url: str):
    """The app on the bench database and Redis."""
    from app import create_app
    from config import Config

    config = Config()
    config.LINLI_ENV = "development"  # loopback bench with the development secrets
    config.SQLALCHEMY_DATABASE_URI = db_url
    config.REDIS_URL = redis_url
    config.CHECK_MIGRATIONS = False
    config.EMBEDDED_WORKER = False
    config.SECRET_KEY = "bench-secret"
    return create_app(config)


def reset_schema(app) -> None:
    """Drop and migrate the bench database."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.core.db import db

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()


def seed(app, n: int) -> None:
    """n residents, conversations, 12 messages each and one escalation each, inserted in bulk."""
    from werkzeug.security import generate_password_hash

    from app.chat.models import Conversation, Message
    from app.community.models import Building, Community, Household, Resident, Staff, Unit
    from app.core.clock import utcnow
    from app.core.db import db
    from app.escalations.models import Escalation

    rng = random.Random(9)
    now = utcnow()
    with app.app_context():
        s = db.session
        community = Community(name="基准小区", kind="standard")
        s.add(community)
        s.flush()
        households = []
        for b in range(1, 41):
            building = Building(community_id=community.id, number=str(b), position=b)
            s.add(building)
            s.flush()
            unit = Unit(building_id=building.id, number="1")
            s.add(unit)
            s.flush()
            for r in range(n // 40 + 1):
                households.append(Household(unit_id=unit.id, room=str(101 + r)))
        s.add_all(households)
        s.flush()
        pw = generate_password_hash("bench-password")
        s.add_all([Staff(community_id=community.id, username="admin", name="主管", role="admin", password_hash=pw,
                         building_scope=[]),
                   Staff(community_id=community.id, username="li", name="李师傅", role="property",
                         password_hash=pw, building_scope=["1", "2"])])
        s.flush()
        staff_ids = [x.id for x in s.query(Staff).all()]
        s.execute(Resident.__table__.insert(), [
            {"community_id": community.id, "household_id": households[i].id, "name": f"住户{i}",
             "phone": f"139{i:08d}", "role": "owner", "status": "active", "oa_openid": f"o_bench_{i}",
             "created_at": now, "updated_at": now} for i in range(n)])
        residents = s.query(Resident.id, Resident.household_id).order_by(Resident.id).all()
        s.execute(Conversation.__table__.insert(), [
            {"channel": "oa", "openid": f"o_bench_{i}", "resident_id": rid, "state": "bot", "dialog": {},
             "last_inbound_at": now - timedelta(hours=rng.randint(0, 72)), "updated_at": now}
            for i, (rid, _h) in enumerate(residents)])
        conversations = s.query(Conversation.id, Conversation.resident_id).order_by(Conversation.id).all()
        messages = []
        for cid, _rid in conversations:
            for k in range(12):
                messages.append({"conversation_id": cid, "direction": "in" if k % 2 == 0 else "out",
                                 "msg_type": "text", "content": f"消息{k}：楼道灯不亮了", "payload": {},
                                 "dedup_key": f"b:{cid}:{k}", "created_at": now - timedelta(minutes=60 - k)})
        for start in range(0, len(messages), 20_000):
            s.execute(Message.__table__.insert(), messages[start:start + 20_000])
        building_of = {h.id: str(1 + idx // (n // 40 + 1)) for idx, h in enumerate(households)}
        states = {"waiting": "waiting_for_staff", "with_staff": "with_staff", "resolved": "resolved"}
        rows = []
        for i, (cid, rid) in enumerate(conversations):
            status = rng.choices(["waiting", "with_staff", "resolved"], [2, 2, 6])[0]
            created = now - timedelta(minutes=rng.randint(1, 3000))
            rows.append({"conversation_id": cid, "resident_id": rid, "community_id": community.id,
                         "building": building_of[residents[i][1]], "trigger": "human", "summary": "转人工",
                         "urgent": rng.random() < 0.03, "status": status,
                         "assignee_id": rng.choice(staff_ids) if status != "waiting" else None,
                         "created_at": created, "last_activity_at": created,
                         "first_response_due": created + timedelta(minutes=30),
                         "resolution_due": created + timedelta(hours=8),
                         "first_response_at": created + timedelta(minutes=5) if status != "waiting" else None,
                         "resolved_at": created + timedelta(hours=1) if status == "resolved" else None})
        s.execute(Escalation.__table__.insert(), rows)
        for status, state in states.items():
            s.execute(Conversation.__table__.update().where(Conversation.id.in_(
                [r["conversation_id"] for r in rows if r["status"] == status])).values(state=state))
        s.commit()
        s.execute(db.text("ANALYZE"))
        s.commit()


CPU: list[float] = []  # this process's CPU milliseconds per request, beside the wall time


def timed(client, path: str, n: int) -> list[float]:
    """Wall milliseconds per GET of path, n times (after 3 warm-up requests); CPU ms go to CPU."""
    for _ in range(3):
        assert client.get(path).status_code == 200, path
    out = []
    CPU.clear()
    for _ in range(n):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        CPU.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, path
    return out


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    app = build_app(args.db, args.redis)
    reset_schema(app)
    started = time.perf_counter()
    seed(app, args.conversations)
    print(f"seeded {args.conversations} conversations (12 messages and 1 escalation each) "
          f"in {time.perf_counter() - started:.1f} s")
    from console_forms import login

    with app.app_context():
        from app.core.db import db
        from app.escalations.models import Escalation

        open_ids = [i for (i,) in db.session.query(Escalation.id).filter(
            Escalation.status != "resolved", Escalation.building.in_(["1", "2"])).limit(20)]
        db.session.remove()
    print(f"load average {open('/proc/loadavg').read().split()[0]}; wall ms, and this process's CPU ms")
    print(f"{'who':6} {'page':34} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'cpu p99':>8}")
    for who in ("admin", "li"):
        client = app.test_client()
        assert login(client, who, "bench-password").status_code == 303
        pages = [f"/console/escalations?filter={f}" for f in ("waiting", "mine", "urgent", "breached", "resolved")]
        pages += ["/console/api/escalations?filter=waiting", f"/console/escalations/{open_ids[0]}",
                  f"/console/api/escalations/{open_ids[0]}"]
        for path in pages:
            ms = timed(client, path, args.requests)
            print(f"{who:6} {path:34} {len(ms):5d} {statistics.median(ms):8.1f} {pct(ms, 99):8.1f} "
                  f"{statistics.median(CPU):8.1f} {pct(CPU, 99):8.1f}")
        ms, cpu = [], []
        for k in range(args.requests):
            ms += timed(client, f"/console/escalations/{open_ids[k % len(open_ids)]}", 1)
            cpu += CPU
        print(f"{who:6} {'/console/escalations/<20 different ids>':34} {len(ms):5d} {statistics.median(ms):8.1f} "
              f"{pct(ms, 99):8.1f} {statistics.median(cpu):8.1f} {pct(cpu, 99):8.1f}")
    print(f"load average {open('/proc/loadavg').read().split()[0]} at the end")


if __name__ == "__main__":
    main()
