"""The simulator: a realistic day through events.ingest (08:00-20:00 of it here; the demo seed plays the last 24
hours at once), and `flask devices simulate` live at high speed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from console_forms import login
from device_rules_world import flats, resident

from app.core.clock import to_local
from app.devices import simulate
from app.devices.models import Alarm, DeviceCommand, DeviceEvent
from app.devices.rule_models import LiftCase, MistState
from app.notify.models import Notification


@pytest.fixture
def demo(db_session, make_community):
    community = make_community()
    flats(db_session, community, "30", ("1", "2"), range(11, 14))
    owner = resident(db_session, flats(db_session, community, "28", ("1",), range(3, 4))["1-301"], "车主")
    return community, owner


def test_the_demo_day_shows_every_scenario(client, db_session, demo, clock, make_staff):
    community, owner = demo
    end = clock.at(20, 0)
    devices = simulate.setup(db_session, community)
    simulate.play(db_session, devices, simulate.day_script(end - timedelta(hours=12), end))  # 08:00-20:00
    fall = db_session.query(Alarm).filter_by(community_id=community.id, type="falling_object").one()
    assert fall.details["floor"] == 12 and fall.details["candidates"][0]["label"] == "30幢1单元1202"
    assert to_local(fall.raised_at).strftime("%H:%M") == "17:30"
    cases = db_session.query(LiftCase).order_by(LiftCase.id).all()
    assert [c.release_reason for c in cases] == ["left", "failsafe"]
    assert (cases[1].released_at - cases[1].detected_at) <= timedelta(seconds=60)
    assert [n.resident_id for n in db_session.query(Notification).all()] == [owner.id]  # the repeat's notice
    mist = db_session.query(DeviceCommand).filter(DeviceCommand.name.in_(("mist_on", "mist_off"))) \
        .order_by(DeviceCommand.id).all()
    assert [c.name for c in mist] == ["mist_on", "mist_off"]
    assert all(c.status == "acked" for c in db_session.query(DeviceCommand).all())  # every command answered
    on, off = (to_local(c.created_at) for c in mist)
    assert 11 <= on.hour <= 12 and 14 <= off.hour <= 15
    aq = db_session.query(Alarm).filter_by(type="air_quality").one()
    assert aq.state == "cleared_unack"
    assert db_session.query(Alarm).filter(Alarm.type.in_(("no_data", "stuck_value", "temperature"))).count() == 0
    assert not db_session.query(MistState).one().active
    make_staff("admin", username="sim-admin", community=community)
    login(client, "sim-admin")
    # by id, so the second e-bike alarm (the fail-safe case) is the one kept for its type
    shown = {a.type: client.get(f"/console/alarms/{a.id}").get_data(as_text=True)
             for a in db_session.query(Alarm).order_by(Alarm.id)}
    assert "保护时限到自动释放" in shown["ebike_in_lift"] and "EB-2803" in shown["ebike_in_lift"]
    assert "中心花园喷雾幕" in shown["air_quality"] and "抛物溯源" in shown["falling_object"]
    facade = client.get("/console/devices/facade").get_data(as_text=True)
    assert "412,88 1506,140 1490,1010 430,1042" in facade and "EB-2803" in facade and "车主" in facade
    before = db_session.query(DeviceEvent).count()
    simulate.seed_demo_day(db_session, community)  # the demo seed plays nothing once a day was played
    assert db_session.query(DeviceEvent).count() == before


def test_the_cli_plays_live_at_speed(app, db_session, demo, clock):
    community, _ = demo
    clock.at(17, 29)
    result = app.test_cli_runner().invoke(args=["devices", "simulate", "--speed", "100000", "--from", "17:29",
                                                "--hours", "0.05", "--community", community.name])
    assert result.exit_code == 0, result.output
    assert "falling_object" in result.output
    assert db_session.query(Alarm).filter_by(type="falling_object").count() == 1


def test_the_cli_refuses_an_unknown_community(app):
    result = app.test_cli_runner().invoke(args=["devices", "simulate", "--now", "--community", "没有这个小区"])
    assert result.exit_code != 0 and "没有这个小区" in result.output


def test_the_live_feed_sends_the_current_readings_and_the_incident_that_is_due(db_session, demo, clock):
    community, _ = demo
    simulate.setup(db_session, community)
    clock.move_to(clock.at(17, 30) + timedelta(seconds=50))
    assert simulate.feed_live(db_session, clock.now()) == 3  # both sensors (a quarter hour) and the falling object
    assert simulate.feed_live(db_session, clock.now()) == 0  # the same minute again: nothing new
    assert db_session.query(Alarm).filter_by(type="falling_object").count() == 1
    clock.at(17, 35)
    assert simulate.feed_live(db_session, clock.now()) == 1  # the air station only; no incident
