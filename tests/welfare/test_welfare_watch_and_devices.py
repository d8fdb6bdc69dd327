"""Who is watched (consent, thresholds, signals), modes that end by themselves, and devices that are not people:
an offline or flat lock becomes one repair ticket, never a check; meter readings and lift-card swipes count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import device, hours
from sqlalchemy import select

from app.core.clock import local_now, utcnow
from app.core.db import db
from app.core.errors import AppError
from app.tickets.models import Ticket
from app.welfare import watch as watching
from app.welfare.models import WelfareCheck, WelfareDeviceOrder


def _checks() -> list[WelfareCheck]:
    db.session.expire_all()
    return list(db.session.scalars(select(WelfareCheck)))


def test_consent_threshold_and_signals_are_recorded(world, make_resident, db_session):
    watch = world.reload()
    assert (watch.consent_by, watch.consent_relation, watch.consent_recorded_by_id) == ("王秀英", "self",
                                                                                       world.steward.id)
    assert watch.signals == ["door_lock", "water_meter", "chat", "checkin"]  # what her flat has
    year = local_now().year
    now = utcnow()
    younger = make_resident("3", "1", "301", name="张桂兰", birth_year=year - 72)
    risky = make_resident("3", "1", "401", name="赵德明", birth_year=year - 70)
    a = watching.start_watch(db_session, younger, consent_by="张军", relation="family", consent_phone="13600000000",
                             consented_at=now, now=now)
    b = watching.start_watch(db_session, risky, consent_by="赵德明", relation="self", consented_at=now, now=now,
                             risk="high")
    assert (a.threshold_hours, a.consent_relation, a.consent_phone) == (7 * 24, "family", "13600000000")
    assert b.threshold_hours == 48 and a.signals == ["chat", "checkin"]
    watching.update_watch(db_session, a, now=now, threshold_hours=36)
    assert a.due_at == a.timer_from + hours(36)
    with pytest.raises(AppError) as err:
        watching.update_watch(db_session, a, now=now, threshold_hours=2)
    assert err.value.code == "bad_threshold"
    other = make_resident("3", "1", "501", name="孙阿婆")
    with pytest.raises(AppError) as err:
        watching.start_watch(db_session, other, consent_by="孙家", relation="family", consented_at=now, now=now)
    assert err.value.code == "consent_phone_missing"
    with pytest.raises(AppError) as err:
        watching.start_watch(db_session, younger, consent_by="张军", relation="self", consented_at=now, now=now)
    assert err.value.code == "already_watched"


def test_away_until_a_date_pauses_the_watch_and_ends_by_itself(world, clock, db_session):
    now = utcnow()
    watch = world.reload()
    watching.set_mode(db_session, watch, "away", until=now + timedelta(days=5), by="沈丽", now=now)
    db_session.commit()
    clock.shift(timedelta(days=4))  # past the 3-day threshold, but away
    world.sweep()
    assert _checks() == [] and world.reload().mode == "away"
    clock.shift(timedelta(days=1, minutes=5))
    report = world.sweep()
    watch = world.reload()
    assert report.modes_ended == 1 and watch.mode == "normal" and watch.mode_until is None
    assert watch.due_at == now + timedelta(days=5) + hours(72)  # the timer starts when she is back
    clock.move_to(watch.due_at + timedelta(minutes=1))
    world.sweep()
    assert len(_checks()) == 1


def test_a_visit_in_progress_pauses_and_ends(world, clock, db_session):
    watch = world.reload()
    now = utcnow()
    watching.set_mode(db_session, watch, "visit", until=None, by="沈丽", now=now)
    db_session.commit()
    assert world.reload().mode_until == now + watching.VISIT_LENGTH
    clock.shift(watching.VISIT_LENGTH + timedelta(minutes=1))
    world.sweep()
    assert world.reload().mode == "normal"


def test_an_offline_lock_is_one_repair_ticket_and_never_a_check(world, clock, db_session):
    for row in (world.lock, world.meter):
        row.online = False
    db_session.commit()
    clock.move_to(world.reload().due_at + timedelta(minutes=1))
    for _ in range(3):  # the sweep runs again and again: one ticket per device, not one per run
        world.sweep()
        clock.shift(hours(1))
    assert _checks() == []  # nothing can be heard: a device work order, not a welfare alarm
    tickets = list(db.session.scalars(select(Ticket).order_by(Ticket.id)))
    assert [(t.kind, t.category, t.source) for t in tickets] == [("repair", "door", "device"),
                                                                 ("repair", "water", "device")]
    assert "离线" in tickets[0].description and "独居" not in tickets[0].description  # never says who is watched
    world.lock.online = True  # the lock works again: the person can be heard, and is silent
    db_session.commit()
    world.sweep()
    [check] = _checks()
    silent = {r["kind"]: r for r in check.silent}
    assert silent["water_meter"]["unavailable"] and not silent["door_lock"]["unavailable"]
    orders = list(db.session.scalars(select(WelfareDeviceOrder).order_by(WelfareDeviceOrder.id)))
    assert orders[0].closed_at is not None and orders[1].closed_at is None


def test_a_low_battery_is_a_ticket_once(world, clock, db_session):
    world.lock.battery = 8
    db_session.commit()
    world.sweep()
    clock.shift(hours(1))
    world.sweep()
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert "电量低（8%）" in ticket.description and _checks() == []


def test_meter_use_and_lift_card_swipes_are_signs_of_life(world, clock, db_session):
    reader = device(world.resident.community_id, None, "card_reader", "lift-3-1",
                    building_id=world.resident.household.unit.building_id)
    watch = world.reload()
    watching.update_watch(db_session, watch, now=utcnow(), lift_card="C0001",
                          signals=["door_lock", "water_meter", "card_reader"])
    db_session.commit()
    start = world.reload().last_activity_at
    world.event(world.meter, "meter_reading", value=100.0)
    clock.shift(hours(3))
    world.event(world.meter, "meter_reading", value=100.001)  # a dripping tap: not a person
    assert world.reload().last_activity_at == start
    clock.shift(hours(1))
    world.event(world.meter, "meter_reading", value=100.03)  # 29 litres in an hour
    assert world.reload().last_activity_kind == "water_meter"
    clock.shift(hours(2))
    world.event(reader, "card_swipe", card="C0002")  # someone else's card
    assert world.reload().last_activity_kind == "water_meter"
    world.event(reader, "card_swipe", card="C0001")
    watch = world.reload()
    assert watch.last_activity_kind == "card_reader" and watch.due_at == watch.last_activity_at + hours(72)
