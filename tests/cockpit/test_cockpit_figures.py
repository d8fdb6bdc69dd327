"""The cockpit's figures equal what the database holds: each one checked against the rows themselves, counted
in Python; the trends have a zero for every empty day; the plan follows its rule; the page reads the snapshot."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from cockpit_world import build
from sqlalchemy import event, select

from app.campaigns.models import Campaign, Delivery
from app.clinic.models import Booking
from app.cockpit import board, plan, snapshots
from app.cockpit.figures import age_band, local_day_start
from app.cockpit.models import Snapshot
from app.community.models import Community, Resident
from app.core.clock import to_local, utcnow
from app.core.db import db
from app.devices.models import Alarm, Device
from app.escalations.models import Escalation
from app.parking.models import ParkingZone
from app.tickets.models import OPEN_STATUSES, Ticket
from app.welfare.models import WelfareCheck
from app.wishes.models import Wish


def _all(model, community_id):
    return list(db.session.scalars(select(model).where(model.community_id == community_id)))


def test_every_figure_equals_the_rows(db_session, make_resident):
    world = build(db_session, make_resident)
    cid = world.community_id
    now = utcnow()
    figures = snapshots.refresh(db_session, cid, now).figures

    people = [r for r in _all(Resident, cid) if r.status == "active"]
    assert figures["residents"]["total"] == len(people) == 17
    assert figures["residents"]["households"] == len({r.household_id for r in people})
    assert figures["residents"]["by_building"] == dict(Counter(r.household.unit.building.number for r in people))
    assert figures["residents"]["age_bands"] == {
        **{band: 0 for band in ("0-17", "18-59", "60-69", "70-79", "80+", "unknown")},
        **Counter(age_band(to_local(now).year, r.birth_year) for r in people)}
    assert figures["residents"]["living_alone"] == 2

    tickets = _all(Ticket, cid)
    open_ = [t for t in tickets if t.status in OPEN_STATUSES]
    assert figures["tickets"]["open"] == len(open_) == 5
    assert figures["tickets"]["by_status"] == dict(Counter(t.status for t in open_))
    assert figures["tickets"]["by_category"] == dict(Counter(t.category for t in open_))
    breached = [t for t in tickets if t.status in ("submitted", "reopened") and t.sla_due_at <= now]
    assert figures["tickets"]["sla_breached"] == len(breached) == 2

    assert figures["wishes"]["by_stage"] == dict(Counter(w.status for w in _all(Wish, cid)))

    zone = _all(ParkingZone, cid)[0]
    assert figures["parking"]["zones"][0] | {"updated_at": None} == {
        "id": zone.id, "name": "北门停车场", "free": 30 - 19, "total": 30, "updated_at": None}

    start = local_day_start(now)
    today = [b for b in _all(Booking, cid) if start <= b.starts_at < start + timedelta(days=1)]
    assert figures["clinic"]["today"] == len([b for b in today if b.status != "cancelled"]) == 2
    assert figures["clinic"]["by_status"] == dict(Counter(b.status for b in today))

    escalations = _all(Escalation, cid)
    assert figures["escalations"]["waiting"] == len([e for e in escalations if e.status == "waiting"]) == 2
    assert figures["escalations"]["urgent_waiting"] == len([e for e in escalations if e.urgent]) == 1

    sent = [c for c in _all(Campaign, cid) if c.status == "sent"]
    assert figures["campaigns"]["sent_30d"] == len(sent) == 1
    assert figures["campaigns"]["delivered_30d"] == db_session.query(Delivery).filter_by(status="sent").count() == 2

    alarms = [a for a in _all(Alarm, cid) if a.state in ("active_unack", "active_ack")]
    assert figures["alarms"]["active"] == len(alarms) == 2
    assert figures["alarms"]["by_severity"] == dict(Counter(a.severity for a in alarms))
    devices = _all(Device, cid)
    assert figures["devices"]["offline"] == len([d for d in devices if not d.online]) == 2

    assert figures["welfare"]["open"] == len([c for c in _all(WelfareCheck, cid) if c.status == "open"]) == 1

    trends = figures["trends"]
    assert len(trends["days"]) == 30 and trends["days"][-1] == to_local(now).date().isoformat()
    created = Counter(to_local(t.created_at).date().isoformat() for t in tickets)
    assert trends["series"]["tickets"] == [created.get(day, 0) for day in trends["days"]]
    assert trends["series"]["tickets"].count(0) >= 25  # empty days are zeros, not gaps
    assert sum(trends["series"]["alarms"]) == len(_all(Alarm, cid))


def test_the_plan_colours_buildings_by_the_rule(db_session, make_resident):
    world = build(db_session, make_resident)
    figures = snapshots.refresh(db_session, world.community_id, utcnow()).figures
    colours = {b["building"]: b["status"] for b in figures["plan"]}
    # 1: an active critical alarm (red); 3: overdue ticket, offline devices, a minor alarm (amber);
    # 2: its major alarm was cleared and its overdue ticket is closed (green)
    assert colours == {"1": "red", "2": "green", "3": "amber"}
    assert plan.building_status(urgent_alarms=0, other_alarms=0, overdue_tickets=plan.RED_OVERDUE,
                                offline_devices=0) == "red"
    heat = figures["heatmap"]
    assert heat["buildings"] == ["1幢", "2幢", "3幢"] and heat["rows"] == ["报修", "投诉", "告警", "转人工"]
    cell = {(x, y): v for x, y, v in heat["cells"]}
    assert cell[(0, 0)] == 2 and cell[(2, 1)] == 1 and cell[(0, 2)] == 1 and cell[(1, 2)] == 0


def test_opening_the_board_reads_the_snapshot_and_runs_no_figure_query(app, db_session, make_resident):
    world = build(db_session, make_resident)
    snapshots.refresh(db_session, world.community_id, utcnow())
    db_session.commit()
    community = db_session.get(Community, world.community_id)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        data = board.community_board(db_session, community, utcnow(), app.config)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert data["tiles"][0]["key"] == "residents"
    assert all("cockpit_snapshot" in s for s in statements) and len(statements) <= 1


def test_the_job_refreshes_every_community(app, db_session, make_resident, make_community, clock):
    build(db_session, make_resident)
    other = make_community("第二小区")
    db_session.commit()
    from app.cockpit.jobs import refresh_snapshots

    assert refresh_snapshots() == 2
    db_session.expire_all()
    rows = db_session.scalars(select(Snapshot)).all()
    assert {r.community_id for r in rows} >= {other.id}
    first = max(r.computed_at for r in rows)
    clock.shift(timedelta(seconds=45))
    refresh_snapshots()
    db_session.expire_all()
    assert min(r.computed_at for r in db_session.scalars(select(Snapshot))) > first
