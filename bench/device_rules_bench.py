"""Device-rule benchmark: how long the rules take in the event handler, on SQLite in memory (default) or a
PostgreSQL bench database.

    .venv/bin/python bench/device_rules_bench.py [--db sqlite://] [--runs 200] [--profile]

Reports: the e-bike path (ingest of ebike_detected → hold_doors and play_warning commands flushed, the alarm and
the case) p50/p95/max over --runs detections; an air reading with one following curtain p50/p95; a falling
object (trajectory fit, homography, candidates, alarm, evidence) p50/p95; and the simulator's compressed day
(the demo seed) in seconds. Figures are handler time inside the process, not the MQTT round trip (D1's bench).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _line(name: str, ms: list[float]) -> str:
    return f"{name:<34} p50 {statistics.median(ms):6.1f} ms  p95 {_pct(ms, 95):6.1f} ms  max {max(ms):6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite://")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="profile the compressed day")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.community.models import Building, Community, Household, Resident, Unit
    from app.core.clock import utcnow
    from app.core.db import db
    from app.devices import events, simulate
    from app.devices.models import Device
    from config import TestConfig

    config = TestConfig(database_url=args.db)
    config.REDIS_URL = None
    app = create_app(config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        s = db.session
        community = Community(name="基准小区")
        s.add(community)
        s.flush()
        for number, floors in (("28", 12), ("30", 18)):
            b = Building(community_id=community.id, number=number, position=int(number))
            s.add(b)
            s.flush()
            for u in ("1", "2"):
                unit = Unit(building_id=b.id, number=u)
                s.add(unit)
                s.flush()
                for f in range(1, floors + 1):
                    for seat in ("01", "02"):
                        h = Household(unit_id=unit.id, room=f"{f}{seat}")
                        s.add(h)
                        s.flush()
                        s.add(Resident(community_id=community.id, household_id=h.id, name="住户",
                                       phone=f"138{h.id:08d}", role="owner", status="active"))
        s.commit()
        devices = simulate.setup(s, community)
        s.commit()

        started = time.perf_counter()
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
        simulate.play_past_day(s, community, utcnow())
        if args.profile:
            profiler.disable()
        s.commit()
        day = time.perf_counter() - started

        def timed(device: Device, kind: str, make) -> list[float]:
            out = []
            for i in range(args.runs):
                now = utcnow()
                event = {"id": f"bench-{kind}-{i}", "type": kind, "at": now.replace(tzinfo=UTC).isoformat(),
                         **make(i)}
                t = time.perf_counter()
                events.ingest(s, device, event, now)
                s.flush()
                out.append((time.perf_counter() - t) * 1000)
                if kind == "ebike_detected":  # leave, so each detection is a new hold
                    events.ingest(s, device, {"id": f"bench-left-{i}", "type": "ebike_left"}, now)
                s.commit()
            return out

        lift_ms = timed(devices["lift-28-1"], "ebike_detected", lambda i: {"tag": "EB-2803"})
        air_ms = timed(devices["air-garden"], "air_reading",
                       lambda i: {"pm25": 40 + i % 7, "pm10": 60, "wind": 2, "tank_level": 80, "temperature": 15})
        track = simulate.trajectory()
        fall_ms = timed(devices["cam-30-s"], "falling_object",
                        lambda i: {"trajectory": track, "clips": [{"ref": f"nvr://c/{i}.mp4", "sha256": "a" * 64}]})
        print(f"backend: {db.engine.dialect.name}, runs: {args.runs}")
        print(_line("ebike_detected → hold + warning", lift_ms))
        print(_line("air_reading → curtain decision", air_ms))
        print(_line("falling_object → candidates", fall_ms))
        print(f"{'compressed past day (seed)':<34} {day:6.2f} s")
        if args.profile:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
