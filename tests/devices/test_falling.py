"""Falling objects: the camera's trajectory → floor, window column and candidate flats on the calibrated façade,
a critical alarm with its evidence; nobody is told before staff confirm, and then only the flats above."""

from __future__ import annotations

from datetime import timedelta

import pytest
from device_rules_world import device, flats, grid, resident, send

from app.devices import alarms, falling, simulate
from app.devices.models import Alarm
from app.devices.rule_models import Evidence
from app.notify.models import Notification


@pytest.fixture
def tower(app, db_session, make_community):
    """30幢: two units, floors 10-14, a calibrated camera and one resident in each flat."""
    community = make_community()
    homes = flats(db_session, community, "30", ("1", "2"), range(10, 15))
    people = {key: resident(db_session, h) for key, h in homes.items()}
    camera = device(app, db_session, community, "cam-30-south", "camera", building_number="30")
    grid(db_session, camera)
    return community, camera, homes, people


def _fall(db_session, camera, at, *, floor=12, column=2, event_id="fall-1", **extra):
    ref = f"nvr://{camera.code}/clip-{event_id}.mp4"
    return send(db_session, camera, "falling_object", at, event_id=event_id,
                trajectory=simulate.trajectory(floor=floor, column=column),
                clips=[{"ref": ref, "sha256": "a" * 64, "start": at.isoformat() + "+00:00"}],
                snapshots=[{"ref": ref.replace(".mp4", ".jpg"), "sha256": "B" * 64}, {"ref": "nvr://x.jpg",
                                                                                       "sha256": "not-a-hash"}],
                **extra)


def test_trajectory_maps_to_floor_column_and_candidate_flats(db_session, tower, clock):
    community, camera, homes, _ = tower
    now = clock.at(17, 30)
    _fall(db_session, camera, now)
    alarm = db_session.query(Alarm).filter_by(type="falling_object").one()
    d = alarm.details
    assert alarm.severity == "critical" and alarm.state == "active_unack" and alarm.device_id == camera.id
    assert (d["floor"], d["column"], d["flat"]) == (12, 2, "1-02") and d["confidence"] >= 0.5
    best = d["candidates"][0]
    assert best["label"] == "30幢1单元1202" and best["household_id"] == homes["1-1202"].id
    assert all(c["confidence"] <= best["confidence"] for c in d["candidates"])
    assert "12层" in alarm.location
    rows = db_session.query(Evidence).filter_by(alarm_id=alarm.id).order_by(Evidence.id).all()
    assert [(r.kind, r.sha256) for r in rows] == [("clip", "a" * 64), ("snapshot", "b" * 64), ("snapshot", None)]
    assert all(r.camera_id == camera.id and r.event_id == "fall-1" for r in rows)
    assert db_session.query(Notification).count() == 0  # nobody is named or told before staff confirm


def test_the_same_event_twice_is_one_alarm_and_one_set_of_evidence(db_session, tower, clock):
    _, camera, _, _ = tower
    now = clock.at(17, 30)
    _fall(db_session, camera, now)
    assert _fall(db_session, camera, now) is None
    assert db_session.query(Evidence).count() == 3


def test_a_second_object_while_the_alarm_is_active_keeps_both_origins(db_session, tower, clock):
    _, camera, _, _ = tower
    at = clock.at(17, 30)
    _fall(db_session, camera, at)
    _fall(db_session, camera, at + timedelta(minutes=2), floor=13, column=3, event_id="fall-2")
    alarm = db_session.query(Alarm).filter_by(type="falling_object").one()
    assert alarm.repeat_count == 1 and (alarm.details["floor"], alarm.details["flat"]) == (13, "2-01")
    assert [(i["floor"], i["column"], i["local"]) for i in alarm.details["incidents"]] == [(12, 2, "17:30"),
                                                                                          (13, 3, "17:32")]
    assert db_session.query(Evidence).filter_by(alarm_id=alarm.id).count() == 6


def test_uncalibrated_camera_still_raises_with_its_evidence(app, db_session, tower, clock):
    community, _, _, _ = tower
    other = device(app, db_session, community, "cam-north", "camera", building_number="30")
    _fall(db_session, other, clock.at(9, 0))
    alarm = db_session.query(Alarm).filter_by(device_id=other.id).one()
    assert alarm.details["calibrated"] is False and "floor" not in alarm.details
    assert db_session.query(Evidence).filter_by(alarm_id=alarm.id).count() == 3


def test_confirm_tells_only_the_flats_above_in_that_column(db_session, tower, clock, make_staff):
    community, camera, _, people = tower
    _fall(db_session, camera, clock.at(17, 30))
    alarm = db_session.query(Alarm).filter_by(type="falling_object").one()
    staff = make_staff("property", community=community)
    clock.at(17, 36)
    alarms.confirm(db_session, alarm.id, staff, now=clock.now())
    told = {n.resident_id for n in db_session.query(Notification).all()}
    assert told == {people["1-1302"].id, people["1-1402"].id}  # above floor 12, unit 1 seat 02 only
    note = db_session.query(Notification).first()
    assert note.category == "safety" and "高空坠物" in note.text and "1202" not in note.text
    assert alarm.details["notice_residents"] == 2
    assert falling.notify_flats_above(db_session, alarm, clock.now()) == 0  # once only
    assert db_session.query(Notification).count() == 2


def test_reject_tells_nobody(db_session, tower, clock, make_staff):
    community, camera, _, _ = tower
    _fall(db_session, camera, clock.at(17, 30))
    alarm = db_session.query(Alarm).filter_by(type="falling_object").one()
    alarms.reject(db_session, alarm.id, make_staff("property", community=community), now=clock.now())
    assert db_session.query(Notification).count() == 0 and alarm.state == "cleared"
