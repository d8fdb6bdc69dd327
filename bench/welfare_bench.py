"""Welfare check benchmark: one sweep over 10,000 watched residents, each with a door lock.

    .venv/bin/python bench/welfare_bench.py [--watched 10000]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/welfare_bench .venv/bin/python bench/welfare_bench.py

SQLite (a temporary file) by default; PostgreSQL when DATABASE_URL is given (its tables are created and
dropped: point it only at a bench database). The population: 1% of residents past their threshold, 1% of
locks offline and 0.5% low on battery, 3% away or in hospital (a third of them ending now). Prints, for the
ordinary sweep (what runs every 5 minutes) and for the worst case (every resident due at once, e.g. after
an outage), the worker's CPU seconds and the wall time, and what the sweep did. Target: <= 30 s of worker time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_app(db_url: str):
    """The app on the bench database (no Redis: the outbox rows are written, never relayed)."""
    from app import create_app
    from config import TestConfig

    config = TestConfig(database_url=db_url)
    config.CHECK_MIGRATIONS = False
    return create_app(config)


def populate(session, watched: int, rng: random.Random) -> None:
    """Buildings, households, residents, locks and watches, inserted in bulk."""
    from sqlalchemy import insert

    from app.community.models import Building, Community, Household, Resident, Unit
    from app.core.clock import utcnow
    from app.devices.models import Device
    from app.welfare.models import WelfareWatch

    now = utcnow()
    community = Community(name="压测小区", kind="old_neighbourhood")
    session.add(community)
    session.flush()
    per_building = 200
    buildings = (watched + per_building - 1) // per_building
    session.execute(insert(Building), [{"community_id": community.id, "number": str(b + 1), "position": b}
                                       for b in range(buildings)])
    building_ids = [b.id for b in session.query(Building).order_by(Building.id)]
    session.execute(insert(Unit), [{"building_id": b, "number": "1"} for b in building_ids])
    unit_ids = [u.id for u in session.query(Unit).order_by(Unit.id)]
    session.execute(insert(Household), [{"unit_id": unit_ids[i // per_building], "room": str(1000 + i)}
                                        for i in range(watched)])
    household_ids = [h.id for h in session.query(Household).order_by(Household.id)]
    session.execute(insert(Resident), [
        {"community_id": community.id, "household_id": household_ids[i], "name": f"老人{i}", "phone": f"1{i:010d}",
         "birth_year": 1940, "role": "owner", "status": "active", "created_at": now, "updated_at": now}
        for i in range(watched)])
    resident_ids = [r.id for r in session.query(Resident).order_by(Resident.id)]
    locks = []
    for i in range(watched):
        roll = rng.random()
        online, battery = (False, 70) if roll < 0.01 else (True, 10) if roll < 0.015 else (True, 90)
        locks.append({"community_id": community.id, "code": f"lock-{i}", "kind": "door_lock", "name": f"门锁{i}",
                      "location": "", "household_id": household_ids[i], "secret_hash": "", "online": online,
                      "battery": battery, "active": True, "created_at": now, "last_seen_at": now, "settings": {}})
    session.execute(insert(Device), locks)
    watches = []
    for i in range(watched):
        threshold = 72 if i % 3 == 0 else 168
        roll = rng.random()
        if roll < 0.01:
            quiet = timedelta(hours=threshold, minutes=rng.randint(1, 4))  # just crossed
        else:
            quiet = timedelta(hours=rng.uniform(0, threshold * 0.95))
        last = now - quiet
        mode, until = "normal", None
        if 0.01 <= roll < 0.04:
            mode = "hospital" if roll < 0.02 else "away"
            until = now - timedelta(minutes=1) if roll < 0.02 else now + timedelta(days=rng.randint(1, 20))
        due = (max(last, until) if until else last) + timedelta(hours=threshold)
        watches.append({
            "community_id": community.id, "resident_id": resident_ids[i], "household_id": household_ids[i],
            "building": str(i // per_building + 1), "consent_by": f"老人{i}", "consent_relation": "self",
            "consented_at": now, "threshold_hours": threshold, "risk": "normal",
            "signals": ["door_lock", "chat", "checkin"], "mode": mode, "mode_until": until, "mode_set_by": "",
            "last_activity_at": last, "last_activity_kind": "door_lock", "timer_from": last, "due_at": due,
            "false_alarms": 0, "active": True, "created_at": now, "updated_at": now})
    session.execute(insert(WelfareWatch), watches)
    session.commit()


def timed_sweep(session, label: str) -> float:
    """Run one sweep in its own session (the alerts it queues stay in the outbox), commit, print and return
    the worker CPU seconds."""
    from app.core.clock import utcnow
    from app.welfare.sweep import sweep

    cpu, wall = time.process_time(), time.perf_counter()
    report = sweep(session, utcnow())
    session.commit()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{label}: {cpu:.2f} s worker CPU, {wall:.2f} s wall — raised {report.raised}, escalated "
          f"{report.escalated}, blind {report.blind}, modes ended {report.modes_ended}, device orders {report.orders}")
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watched", type=int, default=10_000)
    args = parser.parse_args()
    db_url = os.environ.get("DATABASE_URL")
    tmp = None
    if not db_url:
        tmp = tempfile.NamedTemporaryFile(suffix=".db", delete=False)
        db_url = f"sqlite:///{tmp.name}"
    app = build_app(db_url)
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from app.core.clock import utcnow
    from app.core.db import db
    from app.core.outbox import relay
    from app.welfare.models import WelfareWatch

    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        populate(db.session, args.watched, random.Random(2026))
        print(f"{db.engine.dialect.name}: {args.watched} watched residents with locks, built in "
              f"{time.perf_counter() - started:.1f} s")
        with Session(db.engine) as own:
            ordinary = timed_sweep(own, "ordinary sweep (every 5 minutes)")
        cpu, wall = time.process_time(), time.perf_counter()
        relayed = relay(app)  # no Redis: the alert jobs run here, one by one, as a worker would
        print(f"its {relayed} alert jobs (cards, device tickets' staff alerts): {time.process_time() - cpu:.2f} s "
              f"worker CPU, {time.perf_counter() - wall:.2f} s wall")
        with Session(db.engine) as own:
            timed_sweep(own, "the next sweep (nothing new)")
            own.execute(update(WelfareWatch).where(WelfareWatch.due_at.is_not(None))
                        .values(due_at=utcnow() - timedelta(minutes=1), mode="normal", mode_until=None))
            own.commit()
            worst = timed_sweep(own, "worst case (every resident due at once; alerts left queued)")
        print(f"target <= 30 s worker time: ordinary {'OK' if ordinary <= 30 else 'MISSED'}, "
              f"worst case {'OK' if worst <= 30 else 'MISSED'}")
        db.session.remove()
        db.drop_all()
    if tmp is not None:
        Path(tmp.name).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
