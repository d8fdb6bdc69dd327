"""Falling-object evidence: kept 30 days (a test moves the clock), a legal hold cleanup never deletes, a logged
export; and the console's evidence panel, its hold and export forms, and the façade calibration page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from console_forms import login, post
from device_rules_world import device, flats, grid, resident, send

from app.community.models import Community
from app.devices import evidence, simulate
from app.devices.models import Alarm, AlarmEntry
from app.devices.rule_models import Evidence, EvidenceExport, FacadeGrid


@pytest.fixture
def incident(app, db_session, make_community, make_staff, clock):
    """A falling object at 17:30 today from 30幢's 12th floor, with 2 evidence items; a property staff."""
    community = make_community()
    homes = flats(db_session, community, "30", ("1",), range(11, 14))
    resident(db_session, homes["1-1302"])
    camera = device(app, db_session, community, "cam-30-south", "camera", building_number="30")
    grid(db_session, camera)
    at = clock.at(17, 30)
    send(db_session, camera, "falling_object", at, trajectory=simulate.trajectory(),
         clips=[{"ref": "nvr://cam/clip.mp4", "sha256": "c" * 64}], snapshots=["nvr://cam/snap.jpg"])
    alarm = db_session.query(Alarm).filter_by(type="falling_object").one()
    staff = make_staff("property", community=community, username="kefu-ev")
    return alarm, staff, at


def test_nothing_is_lost_within_30_days_and_a_legal_hold_survives_cleanup(db_session, incident, clock):
    alarm, staff, at = incident
    assert evidence.cleanup(db_session, at + timedelta(days=29, hours=23)) == 0
    assert db_session.query(Evidence).count() == 2
    other = Alarm(community_id=alarm.community_id, type="falling_object", severity="critical", raised_at=at,
                  location="x", details={})
    db_session.add(other)
    db_session.flush()
    kept = Evidence(community_id=alarm.community_id, alarm_id=other.id, kind="clip", ref="nvr://held.mp4",
                    started_at=at, created_at=at, expires_at=at + evidence.RETENTION, legal_hold=False)
    db_session.add(kept)
    db_session.flush()
    assert evidence.set_hold(db_session, staff, other.id, True, "派出所调取", at) == 1
    clock.move_to(at + timedelta(days=31))
    assert evidence.cleanup(db_session, clock.now()) == 2  # the unheld ones, past 30 days
    assert [e.ref for e in db_session.query(Evidence).all()] == ["nvr://held.mp4"]
    assert evidence.cleanup(db_session, at + timedelta(days=400)) == 0
    assert db_session.get(Evidence, kept.id).hold_reason == "派出所调取"


def test_a_hold_needs_a_reason_and_lifting_it_leaves_a_day(db_session, incident):
    alarm, staff, at = incident
    with pytest.raises(Exception) as err:
        evidence.set_hold(db_session, staff, alarm.id, True, "  ", at)
    assert getattr(err.value, "code", "") == "hold_reason_required"
    evidence.set_hold(db_session, staff, alarm.id, True, "业主报警", at)
    later = at + timedelta(days=40)
    evidence.set_hold(db_session, staff, alarm.id, False, "", later)
    assert evidence.cleanup(db_session, later + timedelta(hours=23)) == 0
    assert evidence.cleanup(db_session, later + timedelta(days=1, seconds=1)) == 2
    texts = [e.text for e in db_session.query(AlarmEntry).filter_by(alarm_id=alarm.id, kind="note")]
    assert "证据保全：业主报警" in texts and "解除证据保全" in texts


def test_export_is_logged_with_who_and_when(db_session, incident, clock):
    alarm, staff, at = incident
    clock.move_to(at + timedelta(hours=2))
    body, log = evidence.export(db_session, staff, alarm.id, clock.now())
    manifest = json.loads(body)
    assert [i["sha256"] for i in manifest["items"]] == ["c" * 64, None]
    assert manifest["exported_by"]["id"] == staff.id
    row = db_session.query(EvidenceExport).one()
    assert (row.staff_id, row.items) == (staff.id, 2)
    assert abs((row.at - (at + timedelta(hours=2))).total_seconds()) < 5


def test_console_panel_hold_and_export(client, db_session, incident):
    alarm, staff, _ = incident
    login(client, "kefu-ev")
    page = client.get(f"/console/alarms/{alarm.id}").get_data(as_text=True)
    assert "抛物溯源" in page and "30幢1单元1202" in page and "c" * 16 in page and "证据保全" in page
    assert "确认后将提醒 1 户" in page  # 1302, the one flat above the origin in its column
    response = post(client, f"/console/alarms/{alarm.id}/evidence/hold",
                    {"reason": "业主报警", "next": f"/console/alarms/{alarm.id}"})
    assert response.status_code == 303 and response.location.endswith(f"/console/alarms/{alarm.id}")
    assert all(e.legal_hold for e in db_session.query(Evidence).all())
    response = post(client, f"/console/alarms/{alarm.id}/evidence/export")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert json.loads(response.data)["alarm"]["id"] == alarm.id
    assert db_session.query(EvidenceExport).filter_by(alarm_id=alarm.id, staff_id=staff.id).count() == 1
    assert f"{staff.name}（2 项）" in client.get(f"/console/alarms/{alarm.id}").get_data(as_text=True)
    assert post(client, "/console/alarms/999999/evidence/export").status_code == 404


def test_repair_worker_sees_the_alarm_but_cannot_export(client, db_session, incident, make_staff):
    alarm, staff, _ = incident
    make_staff("repair_worker", username="rw-ev", community=db_session.get(Community, staff.community_id))
    login(client, "rw-ev")
    assert post(client, f"/console/alarms/{alarm.id}/evidence/export").status_code == 403
    assert db_session.query(EvidenceExport).count() == 0


def test_facade_page_saves_a_calibration_and_tries_a_point(client, db_session, incident):
    alarm, staff, _ = incident
    camera = alarm.device
    login(client, "kefu-ev")
    page = client.get("/console/devices/facade").get_data(as_text=True)
    assert "外立面标定" in page and camera.code in page
    bad = post(client, f"/console/devices/facade/{camera.id}", {"building_id": str(alarm.building_id),
                                                               "floors": "18", "top_floor": "18", "columns": "4",
                                                               "corners": "1,2 3,4"}, follow_redirects=True)
    assert "8 个数字" in bad.get_data(as_text=True)
    ok = post(client, f"/console/devices/facade/{camera.id}", {
        "building_id": str(alarm.building_id), "floors": "12", "top_floor": "18", "columns": "2",
        "corners": "400,100 1500,100 1500,1000 400,1000", "column_flats": "1-01, 1-02"})
    assert ok.status_code == 303
    row = db_session.query(FacadeGrid).filter_by(camera_id=camera.id).one()
    assert (row.floors, row.columns, row.column_flats, row.updated_by_id) == (12, 2, ["1-01", "1-02"], staff.id)
    tried = client.get(f"/console/devices/facade?camera={camera.id}&x=1200&y=130").get_data(as_text=True)
    assert "约 <strong>18 层</strong> 第 2 列" in tried and "30幢1单元1802" in tried
