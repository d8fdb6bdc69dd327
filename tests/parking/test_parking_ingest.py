"""Camera occupancy reports: device signatures, replays, wrong or unknown zones, capacity, duplicate and
out-of-order events, per-space states, and the availability cache kept current."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from parking_setup import iso, signed_post, zone_for
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.db import db
from app.core.redis_conn import get_redis
from app.parking import ingest as parking_ingest
from app.parking import parking
from app.parking.models import OccupancyEvent, ParkingDevice, ParkingZone, ZoneSample


@pytest.fixture
def site(app, db_session, make_household):
    b30 = zone_for(db_session, make_household, "30", fixed=10, temporary=5)
    b12 = zone_for(db_session, make_household, "12", fixed=4, temporary=2)
    key = app.config["SECRET_KEY"]
    camera = parking_ingest.new_device(db_session, community_id=b30.community_id, seal_key=key, name="30幢路口",
                                       zone_ids=[b30.id])
    gateway = parking_ingest.new_device(db_session, community_id=b30.community_id, seal_key=key, name="总网关")
    db_session.commit()
    return {"b30": b30, "b12": b12, "camera": camera, "gateway": gateway}


def _zone(zone_id: int) -> ParkingZone:
    db.session.expire_all()
    return db.session.get(ParkingZone, zone_id)


def _report(event_id: str, at, zone: str = "B30", **counts) -> dict:
    return {"event_id": event_id, "zone": zone, "at": iso(at), **counts}


def test_a_signed_count_is_applied_and_the_cache_follows(client, site, app):
    b30 = site["b30"]
    conn = get_redis(app)
    parking.availability(db.session, conn, b30.community_id)  # the cache exists before the update
    at = utcnow() - timedelta(seconds=5)
    response = signed_post(client, site["camera"], _report("e1", at, fixed_occupied=9, temporary_occupied=4))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "applied", "zone": "B30", "fixed_free": 1, "temporary_free": 1,
                                   "at": at.isoformat() + "Z"}
    zone = _zone(b30.id)
    assert (zone.fixed_occupied, zone.temporary_occupied, zone.last_event_at) == (9, 4, at)
    cached = json.loads(conn.hget(parking.CACHE_KEY.format(community_id=b30.community_id), str(b30.id)))
    assert (cached["ff"], cached["tf"], cached["at"]) == (1, 1, at.isoformat())
    [sample] = db.session.scalars(select(ZoneSample)).all()
    assert (sample.fixed_occupied, sample.temporary_occupied, sample.bucket) == (9, 4, parking.bucket_of(at))


def test_free_counts_are_accepted_too(client, site):
    response = signed_post(client, site["gateway"], _report("f1", utcnow(), zone="B12", fixed_free=1, temporary_free=2))
    assert response.get_json()["status"] == "applied"
    zone = _zone(site["b12"].id)
    assert (zone.fixed_occupied, zone.temporary_occupied) == (3, 0)


@pytest.mark.parametrize("tamper, code", [
    ({"secret": "0" * 64}, "bad_signature"),
    ({"key_id": "cam_unknown"}, "unknown_device"),
    ({"timestamp": -301}, "stale_timestamp"),
    ({"timestamp": 400}, "stale_timestamp"),
])
def test_bad_device_auth_is_refused_and_logged(client, site, caplog, tamper, code):
    caplog.set_level(logging.WARNING, logger="app.parking.device_api")
    if "timestamp" in tamper:  # an offset from now, taken when the test runs
        tamper = {"timestamp": int(time.time()) + tamper["timestamp"]}
    response = signed_post(client, site["camera"], _report("a1", utcnow(), fixed_occupied=1), **tamper)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == code
    assert _zone(site["b30"].id).last_event_at is None
    assert db.session.scalar(select(OccupancyEvent)) is None
    assert any(f"code={code}" in r.getMessage() for r in caplog.records)


def test_a_body_changed_after_signing_is_refused(client, site):
    camera = site["camera"]
    body = json.dumps(_report("a2", utcnow(), fixed_occupied=1)).encode()
    ts = str(int(time.time()))
    headers = {"X-Parking-Device": camera.key_id, "X-Parking-Timestamp": ts,
               "X-Parking-Signature": parking_ingest.sign(camera.issued_secret, ts, body)}
    forged = body.replace(b'"fixed_occupied": 1', b'"fixed_occupied": 9')
    response = client.post("/api/v1/parking/events", data=forged, headers=headers, content_type="application/json")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "bad_signature"
    missing = client.post("/api/v1/parking/events", data=body, content_type="application/json")
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "missing_signature"


def test_a_replayed_request_is_refused(client, site, caplog):
    caplog.set_level(logging.WARNING, logger="app.parking.device_api")
    ts = int(time.time())
    report = _report("r1", utcnow(), fixed_occupied=2)
    assert signed_post(client, site["camera"], report, timestamp=ts).status_code == 200
    again = signed_post(client, site["camera"], report, timestamp=ts)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "replay"
    assert any("code=replay" in r.getMessage() for r in caplog.records)


def test_a_resent_event_id_is_a_duplicate_and_changes_nothing(client, site):
    at = utcnow()
    assert signed_post(client, site["camera"], _report("d1", at, fixed_occupied=2)).get_json()["status"] == "applied"
    resent = signed_post(client, site["camera"], _report("d1", at + timedelta(seconds=1), fixed_occupied=8),
                         timestamp=int(time.time()) + 1)
    assert resent.status_code == 200 and resent.get_json()["status"] == "duplicate"
    assert _zone(site["b30"].id).fixed_occupied == 2
    assert db.session.query(OccupancyEvent).count() == 1


def test_an_older_event_arriving_late_never_overwrites_newer_state(client, site, app):
    b30, now = site["b30"], utcnow()
    conn = get_redis(app)
    parking.availability(db.session, conn, b30.community_id)
    newer, older = now - timedelta(minutes=1), now - timedelta(minutes=12)
    assert signed_post(client, site["camera"], _report("n", newer, fixed_occupied=7)).get_json()["status"] == "applied"
    late = signed_post(client, site["camera"], _report("o", older, fixed_occupied=1, temporary_occupied=5))
    assert late.status_code == 200
    assert late.get_json() == {"status": "late", "zone": "B30", "fixed_free": 3, "temporary_free": 5,
                               "at": newer.isoformat() + "Z"}
    zone = _zone(b30.id)
    assert (zone.fixed_occupied, zone.temporary_occupied, zone.last_event_at) == (7, 0, newer)
    cached = {a.code: a for a in parking.availability(db.session, conn, b30.community_id, now=now)}
    assert (cached["B30"].fixed_free, cached["B30"].at) == (3, newer)
    # the late count still fills its own place in the history
    buckets = {s.bucket: s.fixed_occupied for s in db.session.scalars(select(ZoneSample))}
    assert buckets[parking.bucket_of(older)] == 1 and buckets[parking.bucket_of(newer)] == 7
    assert db.session.scalar(select(OccupancyEvent.applied).where(OccupancyEvent.event_id == "o")) is False


def test_a_stale_cache_write_never_replaces_a_newer_one(site, app, db_session):
    b30, conn = site["b30"], get_redis(app)
    parking.availability(db_session, conn, b30.community_id)
    b30.fixed_occupied, b30.last_event_at = 5, utcnow()
    parking.cache_zone(conn, b30)
    older = db_session.get(ParkingZone, b30.id)
    older.fixed_occupied, older.last_event_at = 1, utcnow() - timedelta(minutes=3)
    parking.cache_zone(conn, older)  # a slower request's write, after the newer one
    cached = json.loads(conn.hget(parking.CACHE_KEY.format(community_id=b30.community_id), str(b30.id)))
    assert cached["ff"] == 5
    db_session.rollback()


def test_wrong_and_unknown_zones_are_refused(client, site, caplog):
    caplog.set_level(logging.WARNING, logger="app.parking.device_api")
    wrong = signed_post(client, site["camera"], _report("w1", utcnow(), zone="B12", fixed_occupied=1))
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "zone_not_allowed"
    unknown = signed_post(client, site["gateway"], _report("w2", utcnow(), zone="B99", fixed_occupied=1))
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "unknown_zone"
    assert _zone(site["b12"].id).last_event_at is None
    assert db.session.scalar(select(OccupancyEvent)) is None
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "code=zone_not_allowed" in logged and "code=unknown_zone" in logged


@pytest.mark.parametrize("counts", [{"fixed_occupied": 11}, {"temporary_occupied": 6}, {"fixed_free": 11},
                                    {"fixed_occupied": -1}, {"fixed_occupied": "3"}])
def test_counts_above_capacity_or_malformed_are_refused(client, site, counts):
    response = signed_post(client, site["camera"], _report("c1", utcnow(), **counts))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] in ("over_capacity", "invalid_field")
    if counts in ({"fixed_occupied": 11}, {"temporary_occupied": 6}, {"fixed_free": 11}):
        assert response.get_json()["error"]["code"] == "over_capacity"
    assert _zone(site["b30"].id).fixed_occupied == 0


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "malformed_json"),
    (json.dumps({"zone": "B30", "at": "2026-11-25T10:00:00+08:00", "fixed_occupied": 1}).encode(), 422,
     "missing_field"),
    (json.dumps({"event_id": "t", "zone": "B30", "at": "yesterday", "fixed_occupied": 1}).encode(), 422,
     "invalid_field"),
    (json.dumps({"event_id": "t", "zone": "B30", "at": "2026-11-25T10:00:00", "fixed_occupied": 1}).encode(), 422,
     "invalid_field"),
])
def test_malformed_reports_get_a_clear_error(client, site, body, status, code):
    response = signed_post(client, site["camera"], body)
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_an_event_from_the_future_is_refused(client, site):
    response = signed_post(client, site["camera"], _report("fut", utcnow() + timedelta(minutes=10),
                                                           fixed_occupied=1))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "future_event"


def test_per_space_states(client, site):
    now = utcnow()
    spaces = [{"code": f"F{i}", "kind": "fixed", "occupied": i < 3} for i in range(4)] + \
        [{"code": "T1", "kind": "temporary", "occupied": True}]
    assert signed_post(client, site["gateway"], _report("s1", now - timedelta(minutes=2), zone="B12",
                                                        spaces=spaces)).get_json()["status"] == "applied"
    zone = _zone(site["b12"].id)
    assert (zone.fixed_occupied, zone.temporary_occupied) == (3, 1)
    # F0 leaves now; an older report saying F3 was taken arrives after it and changes nothing for F0
    signed_post(client, site["gateway"], _report("s2", now, zone="B12", spaces=[{"code": "F0", "occupied": False}]))
    late = signed_post(client, site["gateway"], _report("s3", now - timedelta(minutes=1), zone="B12",
                                                        spaces=[{"code": "F0", "occupied": True},
                                                                {"code": "F3", "occupied": True}]))
    assert late.get_json()["status"] == "applied"  # F3's own state was older, so it moves
    zone = _zone(site["b12"].id)
    assert (zone.fixed_occupied, zone.last_event_at) == (3, now)  # F1, F2, F3; F0 stays free
    too_many = signed_post(client, site["gateway"], _report("s4", now, zone="B12",
                                                            spaces=[{"code": "F9", "kind": "fixed", "occupied": True}]))
    assert too_many.status_code == 422 and too_many.get_json()["error"]["code"] == "over_capacity"
    stale_only = signed_post(client, site["gateway"], _report("s5", now - timedelta(minutes=5), zone="B12",
                                                              spaces=[{"code": "F0", "occupied": True}]))
    assert stale_only.get_json()["status"] == "late"


def test_old_events_are_pruned_and_a_pruned_event_sent_again_changes_nothing(client, site, app):
    from app.parking import jobs as parking_jobs

    b30, now = site["b30"], utcnow()
    signed_post(client, site["camera"], _report("old", now - timedelta(days=3), fixed_occupied=1))
    signed_post(client, site["camera"], _report("new", now - timedelta(minutes=1), fixed_occupied=6))
    assert parking_jobs.prune_events() == 1
    db.session.expire_all()
    assert db.session.scalars(select(OccupancyEvent.event_id)).all() == ["new"]
    again = signed_post(client, site["camera"], _report("old", now - timedelta(days=3), fixed_occupied=1),
                        timestamp=int(time.time()) + 1)  # a retry, signed afresh
    assert again.get_json()["status"] == "late" and _zone(b30.id).fixed_occupied == 6


def test_device_secrets_are_stored_sealed(app, db_session, site, client):
    """A copy of the database alone reveals no device secret; the service still verifies signatures."""
    from app.core.sealed import unseal

    camera = site["camera"]
    stored = db_session.scalar(select(ParkingDevice.secret).where(ParkingDevice.id == camera.id))
    assert stored.startswith("sealed:") and camera.issued_secret not in stored
    assert unseal(stored, app.config["SECRET_KEY"]) == camera.issued_secret
    assert unseal(stored, "another-secret-key") is None  # sealed under another key: refused, not garbage
    response = signed_post(client, camera, _report("s1", utcnow(), fixed_occupied=1))
    assert response.status_code == 200
