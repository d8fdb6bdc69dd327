"""The console's alarm list (filters, live polling endpoint), an alarm's page with its timeline and actions
(CSRF-checked), and the device list with online state, last seen and battery; the demo seed's devices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from console_forms import login, post
from device_setup import add_device

from app.community.demo import DEMO_COMMUNITY, seed_buildings, seed_residents, seed_system_tags, seed_tags
from app.core.clock import utcnow
from app.devices import alarms
from app.devices.demo import DEMO_DEVICES, seed_devices
from app.devices.models import Alarm, Device


@pytest.fixture
def scene(app, db_session, make_community, make_staff):
    community = make_community()
    near = make_staff("repair_worker", username="near", buildings=["30"], community=community)
    far = make_staff("repair_worker", username="far", buildings=["1"], community=community)
    make_staff("doctor", username="doc", community=community)
    lift, _ = add_device(app, db_session, community, "lift-30-1", "lift_gateway", building_number="30",
                         location="30幢1单元电梯")
    smoke, _ = add_device(app, db_session, community, "smoke-1", "smoke_sensor", building_number="1",
                          location="1幢2楼走廊")
    lift.online, lift.battery, lift.last_seen_at = True, 81, utcnow()
    now = utcnow()
    a = alarms.raise_alarm(db_session, community_id=community.id, type="ebike_in_lift", severity="major", now=now,
                           device_id=lift.id)
    b = alarms.raise_alarm(db_session, community_id=community.id, type="smoke", severity="critical",
                           now=now - timedelta(minutes=1), device_id=smoke.id)
    db_session.commit()
    return {"near": near, "far": far, "lift": a.id, "smoke": b.id}


def test_alarm_list_filters_and_scope(client, scene):
    login(client, "near")
    page = client.get("/console/alarms").get_data(as_text=True)
    assert f"alarm-{scene['lift']}" in page and f"alarm-{scene['smoke']}" not in page  # building 1 is not his
    assert "电动车进电梯" in page and 'id="alarm-live"' in page
    assert f"alarm-{scene['lift']}" not in client.get("/console/alarms?severity=critical").get_data(as_text=True)
    assert f"alarm-{scene['lift']}" not in client.get("/console/alarms?building=1").get_data(as_text=True)
    assert f"alarm-{scene['lift']}" in client.get("/console/alarms?type=ebike_in_lift&state=active_unack")\
        .get_data(as_text=True)
    live = client.get("/console/alarms/live").get_json()
    assert live["version"].isdigit()
    assert client.get("/console/alarms/live.js").status_code == 200
    assert client.get(f"/console/alarms/{scene['smoke']}").status_code == 403


def test_live_version_moves_when_an_alarm_changes(client, db_session, scene):
    login(client, "near")
    before = client.get("/console/alarms/live").get_json()["version"]
    post(client, f"/console/alarms/{scene['lift']}/ack")
    assert client.get("/console/alarms/live").get_json()["version"] != before


def test_alarm_page_actions_with_csrf(client, db_session, scene):
    login(client, "near")
    alarm_id = scene["lift"]
    page = client.get(f"/console/alarms/{alarm_id}").get_data(as_text=True)
    assert "时间线" in page and "30幢1单元电梯" in page
    forged = client.post(f"/console/alarms/{alarm_id}/ack", data={})
    assert forged.status_code == 400
    assert post(client, f"/console/alarms/{alarm_id}/ack").status_code == 303
    refused = post(client, f"/console/alarms/{alarm_id}/shelve", {"minutes": "30", "reason": ""},
                   follow_redirects=True)
    assert "搁置需要填写原因" in refused.get_data(as_text=True)
    post(client, f"/console/alarms/{alarm_id}/shelve", {"minutes": "30", "reason": "电梯维保"})
    post(client, f"/console/alarms/{alarm_id}/suppress", {"minutes": "60", "reason": "厂家检修"})
    post(client, f"/console/alarms/{alarm_id}/assign", {"assignee_id": str(scene["near"].id)})
    post(client, f"/console/alarms/{alarm_id}/confirm")
    db_session.expire_all()
    alarm = db_session.get(Alarm, alarm_id)
    assert alarm.state == "active_ack" and alarm.shelve_reason == "电梯维保" and alarm.suppressed
    assert alarm.assignee_id == scene["near"].id and alarm.confirmed is True
    post(client, f"/console/alarms/{alarm_id}/resolve")
    db_session.expire_all()
    assert db_session.get(Alarm, alarm_id).state == "cleared"
    timeline = client.get(f"/console/alarms/{alarm_id}").get_data(as_text=True)
    assert "电梯维保" in timeline and "处理完毕" in timeline
    assert post(client, f"/console/alarms/{scene['smoke']}/ack").status_code == 403


def test_roles_without_alarms_are_refused(client, scene):
    login(client, "doc")
    assert client.get("/console/alarms").status_code == 403
    assert client.get("/console/devices").status_code == 403


def test_device_list_shows_online_state_last_seen_and_battery(client, scene):
    login(client, "near")
    page = client.get("/console/devices").get_data(as_text=True)
    assert "lift-30-1" in page and "81%" in page and "在线" in page and "从未" in page  # the smoke sensor
    assert "smoke-1" not in client.get("/console/devices?kind=lift_gateway").get_data(as_text=True)


def test_demo_seed_registers_the_devices(app, db_session, make_community):
    community = make_community(DEMO_COMMUNITY)
    for step in (seed_buildings, seed_residents, seed_tags, seed_system_tags, seed_devices):
        step(db_session, community)
        db_session.flush()
    ours = {row[0] for row in DEMO_DEVICES}
    devices = [d for d in db_session.query(Device) if d.code in ours or d.code.startswith(("lock-", "water-"))]
    kinds = {d.kind for d in devices}
    assert {"camera", "lift_gateway", "air_sensor", "mist_curtain", "temp_sensor", "smoke_sensor", "leak_sensor",
            "door_lock", "water_meter", "card_reader"} <= kinds
    assert all(d.settings.get("transport") == "http" and d.secret_hash.startswith("$7$") for d in devices)
    locks = [d for d in devices if d.code.startswith("lock-")]
    assert len(locks) == 3 and all(d.household_id for d in locks)
    assert {d.building.number for d in devices if d.kind == "camera"} == {"28", "30"}
    count = db_session.query(Device).count()
    seed_devices(db_session, community)  # a second run adds nothing
    assert db_session.query(Device).count() == count
