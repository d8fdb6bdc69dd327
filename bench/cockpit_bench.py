"""The cockpit on a generated 100,000-resident community: how long the snapshot refresh takes, and how fast the
wall page, its data and the console's data answer (they read the snapshot, never the tables).

    .venv/bin/python bench/cockpit_bench.py                                   # temp SQLite file
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/cockpit_bench .venv/bin/python bench/cockpit_bench.py
    BENCH_RESIDENTS=20000 .venv/bin/python bench/cockpit_bench.py             # smaller

BENCH_DATABASE_URL must name a scratch database: the bench drops and recreates its schema. With Chromium
installed (/usr/bin/chromium), it also times the wall screen in a real browser until every chart is drawn,
against a threaded werkzeug server (first load, cold cache, then a reload).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESIDENTS = int(os.environ.get("BENCH_RESIDENTS", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))


def build_app():
    """The app on the bench database, migrated to head from an empty schema."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.core.db import db
    from config import TestConfig

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='cockpit-bench-')}/bench.db"
    config = TestConfig(database_url=url, redis_url=None)
    config.TESTING = False
    app = create_app(config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app, url


def generate(session, residents: int) -> int:
    """One community with `residents` people (5 a flat), a month of tickets, escalations, alarms, devices,
    parking history, clinic bookings and campaigns; returns the community id."""
    from sqlalchemy import insert, select

    from app.campaigns.models import Campaign, Delivery
    from app.chat.models import Conversation
    from app.clinic.models import Booking, ClinicPlace, ClinicService, Provider, Slot
    from app.community.models import Building, Community, Household, Resident, Tag, Unit, resident_tag
    from app.core.clock import utcnow
    from app.devices.models import Alarm, Device
    from app.escalations.models import Escalation
    from app.parking.models import ParkingZone, ZoneSample
    from app.tickets.models import Ticket
    from app.wishes.models import Wish

    rng = random.Random(7)
    now = utcnow()
    community = Community(name="基准小区", kind="standard")
    session.add(community)
    session.flush()
    cid = community.id
    flats = max(1, residents // 5)
    per_building = 400
    buildings = max(1, (flats + per_building - 1) // per_building)
    session.execute(insert(Building), [{"community_id": cid, "number": str(n + 1), "position": n + 1}
                                       for n in range(buildings)])
    building_ids = session.scalars(select(Building.id).where(Building.community_id == cid).order_by(Building.id)).all()
    session.execute(insert(Unit), [{"building_id": b, "number": str(u)} for b in building_ids for u in range(1, 5)])
    unit_rows = session.execute(select(Unit.id, Unit.building_id).join(Building).where(Building.community_id == cid)
                                .order_by(Unit.id)).all()
    rooms = [{"unit_id": u, "room": f"{f}{d:02d}"} for u, _b in unit_rows for f in range(1, 26) for d in range(1, 5)]
    for i in range(0, flats, 20000):
        session.execute(insert(Household), rooms[i:min(i + 20000, flats)])
    households = session.execute(select(Household.id, Unit.building_id).join(Unit).join(Building)
                                 .where(Building.community_id == cid).order_by(Household.id)).all()
    number_of = {b: str(i + 1) for i, b in enumerate(building_ids)}
    year = now.year
    batch = []
    for n in range(residents):
        household_id, _building = households[n % len(households)]
        batch.append({"community_id": cid, "household_id": household_id, "name": f"居民{n}", "phone": f"1{n:010d}",
                      "birth_year": rng.randint(year - 95, year - 1), "role": "owner", "status": "active",
                      "created_at": now, "updated_at": now})
        if len(batch) == 20000:
            session.execute(insert(Resident), batch)
            batch = []
    if batch:
        session.execute(insert(Resident), batch)
    resident_ids = session.scalars(select(Resident.id).where(Resident.community_id == cid)).all()
    tag = Tag(community_id=cid, name="独居老人", kind="manual")
    session.add(tag)
    session.flush()
    session.execute(insert(resident_tag), [{"resident_id": r, "tag_id": tag.id}
                                           for r in rng.sample(resident_ids, residents // 50)])
    tickets = []
    for _ in range(residents // 3):
        at = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        household_id, building_id = households[rng.randrange(len(households))]
        open_ = rng.random() < 0.05
        tickets.append({"community_id": cid, "kind": rng.choice(("repair", "complaint")),
                        "category": rng.choice(("water", "elevator", "noise", "lighting", "door")),
                        "status": rng.choice(("submitted", "assigned", "in_progress")) if open_ else "closed",
                        "priority": "normal", "resident_id": rng.choice(resident_ids), "household_id": household_id,
                        "building": number_of[building_id], "place": "", "description": "", "source": "oa",
                        "dispatch_mode": "assign", "reopen_count": 0, "sla_due_at": at + timedelta(hours=4),
                        "created_at": at, "updated_at": at})
    for i in range(0, len(tickets), 20000):
        session.execute(insert(Ticket), tickets[i:i + 20000])
    session.execute(insert(Wish), [{"community_id": cid, "title": "心愿", "description": "", "resident_id": r,
                                    "status": rng.choice(("collecting", "under_review", "completed")), "threshold": 20,
                                    "supports_count": 0, "progress": 0, "reason": "", "source": "oa",
                                    "created_at": now - timedelta(days=rng.randint(0, 40)), "updated_at": now}
                                   for r in rng.sample(resident_ids, 500)])
    talkers = rng.sample(resident_ids, 3000)
    session.execute(insert(Conversation), [{"channel": "oa", "openid": f"o_b{r}", "resident_id": r, "state": "bot",
                                            "dialog": {}, "updated_at": now} for r in talkers])
    conversations = session.execute(select(Conversation.id, Conversation.resident_id)).all()
    session.execute(insert(Escalation), [{
        "conversation_id": c, "resident_id": r, "community_id": cid, "building": "1", "trigger": "human",
        "summary": "", "urgent": rng.random() < 0.1, "status": "waiting" if rng.random() < 0.1 else "resolved",
        "created_at": now - timedelta(minutes=rng.randint(0, 60 * 24 * 30)), "last_activity_at": now}
        for c, r in conversations])
    session.execute(insert(Device), [{"community_id": cid, "code": f"d{n}", "kind": "smoke_sensor", "name": f"d{n}",
                                      "building_id": rng.choice(building_ids), "location": "", "secret_hash": "",
                                      "online": rng.random() > 0.05, "active": True, "created_at": now,
                                      "settings": {}} for n in range(1000)])
    session.execute(insert(Alarm), [{
        "community_id": cid, "type": rng.choice(("smoke", "water_leak", "falling_object")),
        "building_id": rng.choice(building_ids), "location": "", "severity": rng.choice(("critical", "major", "minor")),
        "state": "active_unack" if n < 100 else "cleared", "suppressed": False,
        "raised_at": now - timedelta(minutes=rng.randint(0, 60 * 24 * 30)), "details": {}, "repeat_count": 0,
        "escalation_level": 0} for n in range(3000)])
    zones = [ParkingZone(community_id=cid, code=f"z{n}", name=f"{n + 1}号停车场", fixed_capacity=100,
                         temporary_capacity=20, fixed_occupied=60, temporary_occupied=10, updated_at=now,
                         last_event_at=now) for n in range(20)]
    session.add_all(zones)
    session.flush()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    session.execute(insert(ZoneSample), [{"zone_id": z.id, "bucket": start + timedelta(minutes=5 * k),
                                          "fixed_occupied": rng.randint(20, 100), "temporary_occupied": 5,
                                          "at": start + timedelta(minutes=5 * k)} for z in zones for k in range(288)])
    place = ClinicPlace(community_id=cid, kind="room", name="诊室")
    service = ClinicService(community_id=cid, code="blood_pressure", name="测血压")
    provider = Provider(community_id=cid, name="医生")
    session.add_all([place, service, provider])
    session.flush()
    slots = [Slot(community_id=cid, service_id=service.id, provider_id=provider.id, place_id=place.id,
                  starts_at=now + timedelta(minutes=10 * k), ends_at=now + timedelta(minutes=10 * k + 10),
                  capacity=10, booked=0) for k in range(100)]
    session.add_all(slots)
    session.flush()
    session.execute(insert(Booking), [{"community_id": cid, "slot_id": slots[n % 100].id, "resident_id": r,
                                       "service_id": service.id, "status": "booked", "source": "oa", "note": "",
                                       "starts_at": slots[n % 100].starts_at, "ends_at": slots[n % 100].ends_at,
                                       "created_at": now} for n, r in enumerate(rng.sample(resident_ids, 1000))])
    for n in range(10):
        campaign = Campaign(community_id=cid, title=f"通知{n}", audience="all", body="", status="sent",
                            total=1000, fanout_done=True, finished_at=now - timedelta(days=n))
        session.add(campaign)
        session.flush()
        session.execute(insert(Delivery), [{"campaign_id": campaign.id, "resident_id": r, "status": "sent",
                                            "attempts": 1} for r in rng.sample(resident_ids, 1000)])
    return cid


def timed(fn, rounds: int) -> list[float]:
    """Milliseconds each of `rounds` calls took."""
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(values: list[float]) -> str:
    """median / p95 / max in ms."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):8.1f} ms   p95 {p95:8.1f} ms   max {ordered[-1]:8.1f} ms"


def browser_load(app, url_path: str) -> tuple[float, float] | None:
    """Seconds until every chart is drawn in headless Chromium: cold, then a reload (None without Chromium)."""
    if not Path("/usr/bin/chromium").is_file():
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1600,1000", f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        times = []
        for _ in range(2):
            started = time.perf_counter()
            driver.get(f"http://127.0.0.1:{server.server_port}{url_path}")
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return document.body.dataset.chartsReady") == "1")
            times.append(time.perf_counter() - started)
        return times[0], times[1]
    finally:
        driver.quit()
        server.shutdown()


def main() -> int:
    from app.cockpit import snapshots, tokens
    from app.community.models import Community, Staff
    from app.core.clock import utcnow
    from app.core.db import db

    app, url = build_app()
    with app.app_context():
        started = time.perf_counter()
        cid = generate(db.session, RESIDENTS)
        db.session.commit()
        made = time.perf_counter() - started
        refresh = timed(lambda: (snapshots.refresh(db.session, cid, utcnow()), db.session.commit()), 3)
        staff = Staff(community_id=cid, username="bench", name="基准", role="admin", password_hash="x")
        db.session.add(staff)
        db.session.flush()
        _row, token = tokens.create(db.session, staff, "基准大屏")
        db.session.commit()
        community = db.session.get(Community, cid)
        size = len(str(db.session.get(snapshots.Snapshot, cid).figures))
        name = community.name
    client = app.test_client()
    page = timed(lambda: client.get(f"/cockpit/wall/{token}"), ROUNDS)
    data = timed(lambda: client.get(f"/cockpit/wall/{token}/data"), ROUNDS)
    script = timed(lambda: client.get("/cockpit/static/echarts.min.js"), 5)
    body = client.get(f"/cockpit/wall/{token}/data").get_data()
    print(f"cockpit bench: {RESIDENTS:,} residents in 「{name}」 on {url.split('://')[0]} "
          f"(generated in {made:.1f} s; snapshot {size / 1024:.0f} KiB of figures, "
          f"data answer {len(body) / 1024:.0f} KiB)")
    print(f"  snapshot refresh (job)      {summary(refresh)}")
    print(f"  wall page (HTML)            {summary(page)}")
    print(f"  wall data (JSON)            {summary(data)}")
    print(f"  echarts.min.js (1 MB)       {summary(script)}")
    loaded = browser_load(app, f"/cockpit/wall/{token}")
    if loaded:
        print(f"  Chromium, charts drawn      cold {loaded[0]:.2f} s   reload {loaded[1]:.2f} s   (target: 2 s)")
    else:
        print("  Chromium not installed: browser timing skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
