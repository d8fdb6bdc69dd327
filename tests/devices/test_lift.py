"""E-bikes in lifts: the detection holds the doors and plays the warning at once, raises an alarm; the doors are
released when the bike leaves or by the fail-safe (≤ 60 s) whatever answers; every command is logged with its
acknowledgement; a registered owner's repeat gets one polite notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from console_forms import login, post
from device_rules_world import device, flats, resident, send

from app.community.models import Community
from app.devices import lift
from app.devices.models import Alarm, DeviceCommand
from app.devices.rule_models import EbikeTag, LiftCase
from app.notify.models import Notification


@pytest.fixture
def gateway(app, db_session, make_community):
    community = make_community()
    return device(app, db_session, community, "lift-28-1", "lift_gateway", building_number="28",
                  location="28幢1单元电梯")


def _commands(db_session, gw) -> list[tuple[str, str]]:
    return [(c.name, c.status) for c in db_session.query(DeviceCommand).filter_by(device_id=gw.id)
            .order_by(DeviceCommand.id)]


def test_detection_holds_and_warns_at_once_and_leaving_releases(db_session, gateway, clock):
    at = clock.at(8, 12)
    send(db_session, gateway, "ebike_detected", at, confidence=0.9)
    assert _commands(db_session, gateway) == [("hold_doors", "sent"), ("play_warning", "sent")]
    hold = db_session.query(DeviceCommand).filter_by(name="hold_doors").one()
    assert hold.created_at == at and hold.sent_at == at and hold.params == {"max_hold_s": lift.FAILSAFE_S}
    alarm = db_session.query(Alarm).filter_by(type="ebike_in_lift").one()
    assert alarm.state == "active_unack" and hold.alarm_id == alarm.id
    send(db_session, gateway, "command_ack", at + timedelta(milliseconds=200), command_id=hold.id)
    assert hold.status == "acked"
    send(db_session, gateway, "ebike_left", at + timedelta(seconds=20))
    assert _commands(db_session, gateway)[-1] == ("release_doors", "sent")
    case = db_session.query(LiftCase).one()
    assert case.release_reason == "left" and case.released_at == at + timedelta(seconds=20)
    assert alarm.state == "cleared_unack"
    assert lift.sweep_holds(db_session, at + timedelta(minutes=5)) == 0  # already released


def test_failsafe_releases_within_a_minute_even_if_nothing_answers(db_session, gateway, clock):
    at = clock.at(19, 41)
    send(db_session, gateway, "ebike_detected", at)
    send(db_session, gateway, "ebike_detected", at + timedelta(seconds=5))  # still there: no second hold
    assert [n for n, _ in _commands(db_session, gateway)] == ["hold_doors", "play_warning"]
    assert lift.sweep_holds(db_session, at + timedelta(seconds=lift.FAILSAFE_S - 1)) == 0
    clock.move_to(at + timedelta(seconds=lift.FAILSAFE_S))
    assert lift.sweep_holds(db_session, clock.now()) == 1
    release = db_session.query(DeviceCommand).filter_by(name="release_doors").one()
    assert (release.created_at - at).total_seconds() <= 60 and "自动释放" in release.reason
    case = db_session.query(LiftCase).one()
    assert case.release_reason == "failsafe"
    alarm = db_session.query(Alarm).filter_by(type="ebike_in_lift").one()
    assert alarm.state == "active_unack" and alarm.repeat_count == 1  # staff still have to look


def test_the_failsafe_is_capped_at_60_seconds(app, db_session, gateway):
    gateway.settings = {**gateway.settings, "failsafe_s": 300}
    assert lift.failsafe_s(gateway) == 60
    gateway.settings = {**gateway.settings, "failsafe_s": "soon"}
    assert lift.failsafe_s(gateway) == lift.FAILSAFE_S


def test_a_registered_owner_gets_one_polite_notice_on_a_repeat(db_session, gateway, clock):
    community_id = gateway.community_id
    homes = flats(db_session, db_session.get(Community, community_id), "29", ("1",), range(3, 4))
    owner = resident(db_session, homes["1-301"])
    lift.register_tag(db_session, community_id, "EB-2803", owner.id)
    at = clock.at(8, 12)
    send(db_session, gateway, "ebike_detected", at, tag="EB-2803")
    send(db_session, gateway, "ebike_left", at + timedelta(seconds=30))
    assert db_session.query(Notification).count() == 0  # a first case: no notice
    send(db_session, gateway, "ebike_detected", at + timedelta(hours=11), tag="EB-2803")
    notes = db_session.query(Notification).all()
    assert [n.resident_id for n in notes] == [owner.id] and "第 2 次" in notes[0].text and "感谢" in notes[0].text
    assert notes[0].category == "property"
    lift.sweep_holds(db_session, at + timedelta(hours=11, minutes=1))
    send(db_session, gateway, "ebike_detected", at + timedelta(hours=12), tag="EB-2803")
    assert db_session.query(Notification).count() == 1  # at most one a day
    send(db_session, gateway, "ebike_detected", at + timedelta(hours=12, minutes=5), tag="EB-9999")
    assert db_session.query(Notification).count() == 1  # an unregistered tag names nobody


def test_register_tag_checks_the_resident(db_session, gateway):
    with pytest.raises(Exception) as err:
        lift.register_tag(db_session, gateway.community_id, "EB-1", 999999)
    assert getattr(err.value, "code", "") == "resident_not_found"
    with pytest.raises(Exception) as err:
        lift.register_tag(db_session, gateway.community_id, " ", 1)
    assert getattr(err.value, "code", "") == "ebike_tag_required"


def test_staff_register_a_tag_by_phone_in_the_console(client, db_session, gateway, make_staff):
    community = db_session.get(Community, gateway.community_id)
    owner = resident(db_session, flats(db_session, community, "29", ("1",), range(5, 6))["1-501"])
    make_staff("property", username="kefu-tag", community=community)
    login(client, "kefu-tag")
    bad = post(client, "/console/devices/ebike-tags", {"tag": "EB-7", "phone": "13000000000"}, follow_redirects=True)
    assert "没有找到这个手机号的住户" in bad.get_data(as_text=True)
    ok = post(client, "/console/devices/ebike-tags", {"tag": " EB-7 ", "phone": owner.phone})
    assert ok.status_code == 303
    assert db_session.query(EbikeTag).filter_by(community_id=community.id, tag="EB-7").one().resident_id == owner.id
