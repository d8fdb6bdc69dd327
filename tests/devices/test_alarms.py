"""Alarms: one active per device and type (repeats count), chattering and floods grouped, ISA-18.2 states
(acknowledge, clear, shelve and suppress with expiry), confirm before residents, and every change on the
timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from device_setup import add_device

from app.core.clock import utcnow
from app.core.errors import AppError
from app.core.outbox_job import OutboxJob
from app.devices import alarms
from app.devices.models import Alarm


@pytest.fixture
def cam(app, db_session, make_community):
    community = make_community()
    device, _ = add_device(app, db_session, community, "cam-30", building_number="30", location="30幢南立面")
    return device


def _raise(db_session, device, now, type="falling_object", severity="critical", **kw):
    return alarms.raise_alarm(db_session, community_id=device.community_id, type=type, severity=severity, now=now,
                              device_id=device.id, **kw)


def _pages(db_session) -> int:
    return db_session.query(OutboxJob).filter_by(func="app.devices.jobs.page_alarm").count()


def test_repeat_updates_the_one_active_alarm_and_counts(db_session, cam):
    now = utcnow()
    first = _raise(db_session, cam, now, details={"floor": 12})
    again = _raise(db_session, cam, now + timedelta(minutes=5), details={"window": 3})
    assert again.id == first.id and first.repeat_count == 1 and first.last_repeat_at == now + timedelta(minutes=5)
    assert first.details == {"floor": 12, "window": 3}
    assert first.building.number == "30" and first.location == "30幢南立面"
    assert [e.kind for e in alarms.timeline(db_session, first.id)] == ["raised", "repeat"]
    assert _pages(db_session) == 1  # the repeat pages nobody again
    other = _raise(db_session, cam, now, type="device_offline", severity="minor")
    assert other.id != first.id


def test_cleared_alarm_is_raised_anew_and_the_third_in_a_minute_is_chattering(db_session, cam):
    now = utcnow()
    ids = []
    for i in range(4):
        ids.append(_raise(db_session, cam, now + timedelta(seconds=10 * i)).id)
        alarms.clear_alarm(db_session, device_id=cam.id, type="falling_object", now=now + timedelta(seconds=10 * i + 5))
    assert len(set(ids)) == 4
    rows = [db_session.get(Alarm, i) for i in ids]
    assert rows[0].group_key == rows[2].group_key == rows[3].group_key and rows[0].group_key.startswith("chatter:")
    assert _pages(db_session) == 2  # the first two paged; from the third on they are grouped
    assert all(r.state == "cleared_unack" for r in rows)


def test_a_flood_is_grouped_and_paged_once(app, db_session, cam, make_community):
    now = utcnow()
    community = _community(db_session, cam)
    devices = [add_device(app, db_session, community, f"smoke-{i}", "smoke_sensor")[0] for i in range(14)]
    raised = [_raise(db_session, d, now + timedelta(seconds=i), type="no_data", severity="minor")
              for i, d in enumerate(devices)]
    assert [a.group_key for a in raised[:10]] == [None] * 10
    keys = {a.group_key for a in raised[10:]}
    assert len(keys) == 1 and next(iter(keys)).startswith("flood:")
    assert _pages(db_session) == 11  # ten alone, then one summary for the flood
    fire = _raise(db_session, devices[0], now + timedelta(seconds=20), type="smoke", severity="critical")
    assert fire.group_key is None and _pages(db_session) == 12  # a fire in the middle of a flood is paged alone
    later = _raise(db_session, devices[0], now + timedelta(minutes=30), type="temperature", severity="minor")
    assert later.group_key is None


def _community(db_session, device):
    from app.community.models import Community

    return db_session.get(Community, device.community_id)


def test_states_acknowledge_clear_and_resolve(db_session, cam, make_staff):
    staff = make_staff("repair_worker", buildings=["30"], community=_community(db_session, cam))
    now = utcnow()
    alarm = _raise(db_session, cam, now)
    alarms.acknowledge(db_session, alarm.id, staff, now=now)
    assert alarm.state == "active_ack" and alarm.acked_at == now
    alarms.acknowledge(db_session, alarm.id, staff, now=now)  # twice (a second click) changes nothing
    alarms.clear_alarm(db_session, device_id=cam.id, type="falling_object", now=now)
    assert alarm.state == "cleared"
    second = _raise(db_session, cam, now + timedelta(minutes=10))
    alarms.clear_alarm(db_session, device_id=cam.id, type="falling_object", now=now + timedelta(minutes=11))
    assert second.state == "cleared_unack"
    alarms.acknowledge(db_session, second.id, staff, now=now + timedelta(minutes=12))
    assert second.state == "cleared"
    third = _raise(db_session, cam, now + timedelta(minutes=20))
    alarms.resolve(db_session, third.id, staff, now=now + timedelta(minutes=21))
    assert third.state == "cleared" and [e.kind for e in alarms.timeline(db_session, third.id)][-2:] == ["ack", "clear"]


def test_scope_and_roles_limit_who_may_handle(db_session, cam, make_staff):
    community = _community(db_session, cam)
    alarm = _raise(db_session, cam, utcnow())
    far = make_staff("repair_worker", buildings=["1"], community=community)
    doctor = make_staff("doctor", community=community)
    with pytest.raises(AppError) as err:
        alarms.acknowledge(db_session, alarm.id, far, now=utcnow())
    assert err.value.code == "alarm_out_of_scope"
    with pytest.raises(AppError):
        alarms.acknowledge(db_session, alarm.id, doctor, now=utcnow())
    admin = make_staff("admin", buildings=["1"], community=community)
    assert alarms.acknowledge(db_session, alarm.id, admin, now=utcnow()).state == "active_ack"
    with pytest.raises(AppError) as err:
        alarms.assign(db_session, alarm.id, admin, assignee_id=far.id, now=utcnow())
    assert err.value.code == "invalid_assignee"
    near = make_staff("steward", buildings=["30"], community=community)
    alarms.assign(db_session, alarm.id, admin, assignee_id=near.id, now=utcnow())
    assert alarm.assignee_id == near.id and alarm.assigned_at is not None


def test_shelve_needs_a_reason_and_expires(db_session, cam, make_staff):
    staff = make_staff("property", community=_community(db_session, cam))
    now = utcnow()
    alarm = _raise(db_session, cam, now)
    with pytest.raises(AppError) as err:
        alarms.shelve(db_session, alarm.id, staff, minutes=30, reason=" ", now=now)
    assert err.value.code == "shelve_reason_required"
    with pytest.raises(AppError):
        alarms.shelve(db_session, alarm.id, staff, minutes=60 * 25, reason="太久", now=now)
    alarms.shelve(db_session, alarm.id, staff, minutes=30, reason="维修中", now=now)
    assert alarm.shelved_until == now + timedelta(minutes=30) and alarm.shelve_reason == "维修中"
    assert alarms.end_expired(db_session, now + timedelta(minutes=29)) == 0
    assert alarms.end_expired(db_session, now + timedelta(minutes=31)) == 1
    assert alarm.shelved_until is None
    alarms.suppress(db_session, alarm.id, staff, minutes=60, now=now, reason="厂家检修")
    assert alarm.suppressed and alarm.suppressed_until == now + timedelta(minutes=60)
    alarms.end_expired(db_session, now + timedelta(minutes=61))
    assert not alarm.suppressed
    kinds = [e.kind for e in alarms.timeline(db_session, alarm.id)]
    assert kinds.count("shelve") == 2 and kinds.count("suppress") == 2


def test_confirm_tells_the_listeners_and_reject_tells_nobody(db_session, cam, make_staff):
    staff = make_staff("property", community=_community(db_session, cam))
    told = []
    alarms.add_confirm_listener("water_leak", lambda session, alarm, now: told.append(alarm.id))
    now = utcnow()
    real = _raise(db_session, cam, now, type="water_leak", severity="major")
    assert told == []  # raised: residents hear nothing yet
    alarms.confirm(db_session, real.id, staff, now=now)
    assert told == [real.id] and real.confirmed is True and real.state == "active_ack"
    with pytest.raises(AppError) as err:
        alarms.reject(db_session, real.id, staff, now=now)
    assert err.value.code == "alarm_already_decided"
    alarms.clear_alarm(db_session, device_id=cam.id, type="water_leak", now=now)
    false = _raise(db_session, cam, now + timedelta(minutes=5), type="water_leak", severity="major")
    alarms.reject(db_session, false.id, staff, now=now + timedelta(minutes=6))
    assert told == [real.id] and false.confirmed is False and false.state == "cleared"
