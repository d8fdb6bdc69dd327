"""Rotation (轮派): new tickets go to the eligible repair workers in turn, like a manual assignment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from console_forms import login
from sqlalchemy import select

from app.community.models import Building, Resident
from app.core.db import db
from app.core.outbox_job import OutboxJob
from app.notify.models import Notification
from app.tickets import dispatch, tickets
from app.tickets.models import DISPATCH_MODES, RotationTurn, RoutingRule, Ticket
from app.tickets.tickets import Location

ALERT = "app.tickets.jobs.alert_staff"


def _report(db_session, resident, text="3幢楼道灯不亮", building="3", **kw):
    return tickets.create_ticket(db_session, resident=resident, kind="repair", category=kw.pop("category", "lighting"),
                                 description=text, location=Location(building=building, place="楼道"), **kw)


def _rotation_rule(db_session, community_id, **kw):
    rule = RoutingRule(community_id=community_id, kind="repair", mode="rotation", position=kw.pop("position", 1),
                       **kw)
    db_session.add(rule)
    db_session.flush()
    return rule


def _worker(make_staff, name, buildings=None, role="repair_worker"):
    staff = make_staff(role, buildings=buildings)
    staff.name = name
    return staff


def _alerts(db_session, ticket_id):
    rows = db_session.scalars(select(OutboxJob).where(OutboxJob.func == ALERT).order_by(OutboxJob.id))
    return [row.args[1] for row in rows if row.args[0] == ticket_id]


def test_tickets_go_to_the_least_recently_rotated_worker(db_session, make_resident, make_staff):
    resident = make_resident("3")
    a = _worker(make_staff, "王师傅", ["3", "4"])
    b = _worker(make_staff, "赵师傅")  # whole community
    _worker(make_staff, "客服小刘", role="property")  # not a repair worker: never in the turn
    _rotation_rule(db_session, resident.community_id)

    first, second, third = (_report(db_session, resident) for _ in range(3))
    assert [t.assignee_id for t in (first, second, third)] == [a.id, b.id, a.id]
    for ticket in (first, second, third):
        assert ticket.dispatch_mode == "rotation" and ticket.status == "assigned"
        assert ticket.sla_due_at - ticket.created_at == timedelta(hours=4)  # the SLA policy is untouched
        event = ticket.events[-1]
        assert (event.kind, event.from_status, event.to_status, event.actor_kind) == (
            "assigned", "submitted", "assigned", "system")
        assert event.note == f"轮派给{ticket.assignee.name}" and event.data["rule_id"]

    c = _worker(make_staff, "孙师傅", ["3"])  # a newcomer was never rotated to: first in line
    assert _report(db_session, resident).assignee_id == c.id
    assert _report(db_session, resident).assignee_id == b.id  # b's last turn (2nd) is older than a's (3rd)


def test_the_turn_outlives_a_transfer_and_spans_rules(db_session, make_resident, make_staff):
    resident = make_resident("3")
    a, b = _worker(make_staff, "王师傅"), _worker(make_staff, "赵师傅")
    clerk = make_staff("property")
    _rotation_rule(db_session, resident.community_id, category="lighting", position=1)
    _rotation_rule(db_session, resident.community_id, category="water", position=2)
    first = _report(db_session, resident)
    assert first.assignee_id == a.id
    dispatch.assign(db_session, first.id, clerk, b.id, note="王师傅请假")  # transferred: mode is now assign
    assert first.dispatch_mode == "assign"
    second = _report(db_session, resident, text="3幢水管漏水", category="water")  # the other rule, same turn
    assert second.assignee_id == b.id


def test_a_worker_outside_the_building_is_never_picked(db_session, make_resident, make_staff):
    resident = make_resident("3")
    far = _worker(make_staff, "远处的师傅", ["9"])  # lowest id: would come first if scope were ignored
    gone = _worker(make_staff, "离职的师傅", ["3"])
    gone.active = False
    a, b = _worker(make_staff, "王师傅", ["3"]), _worker(make_staff, "赵师傅", ["1", "3"])
    _rotation_rule(db_session, resident.community_id)
    chosen = [_report(db_session, resident).assignee_id for _ in range(4)]
    assert chosen == [a.id, b.id, a.id, b.id]
    assert far.id not in chosen and gone.id not in chosen


def test_a_ticket_only_one_worker_could_take_still_counts_as_their_turn(db_session, make_resident, make_staff):
    resident = make_resident("3")
    make_resident("5", "1", "101")  # building 5 exists too
    a, b = _worker(make_staff, "王师傅", ["3"]), _worker(make_staff, "赵师傅")  # b also covers building 5
    _rotation_rule(db_session, resident.community_id)
    assert _report(db_session, resident, building="3").assignee_id == a.id  # both fit: never-chosen, lowest id
    assert _report(db_session, resident, text="5幢楼道灯不亮", building="5").assignee_id == b.id  # only b fits
    assert _report(db_session, resident, building="3").assignee_id == a.id  # b's forced turn is the latest
    assert _report(db_session, resident, building="3").assignee_id == b.id


def test_no_eligible_worker_opens_the_grab_pool(db_session, make_resident, make_staff):
    resident = make_resident("3")
    _worker(make_staff, "远处的师傅", ["9"])
    clerk = make_staff("property", buildings=["3"])
    _rotation_rule(db_session, resident.community_id)
    ticket = _report(db_session, resident)
    assert ticket.dispatch_mode == "grab" and ticket.assignee_id is None and ticket.status == "submitted"
    routed = ticket.events[-1]
    assert routed.kind == "routed" and routed.actor_kind == "system"
    assert "轮派" in routed.note and "3幢" in routed.note and "抢单池" in routed.note
    assert _alerts(db_session, ticket.id) == ["new"]  # like any pool ticket: staff covering 3幢 hear of it
    dispatch.grab(db_session, ticket.id, clerk)
    assert ticket.assignee_id == clerk.id and ticket.status == "assigned"


def test_the_rotated_worker_hears_what_an_explicit_assignment_says(db_session, make_resident, make_staff, run_jobs,
                                                                   fake_wechat, wecom):
    resident = make_resident("3")
    worker = _worker(make_staff, "王师傅", ["3"])
    worker.wecom_userid = "wang"
    clerk = make_staff("property")
    rule = _rotation_rule(db_session, resident.community_id)
    rotated = _report(db_session, resident)
    rule.active = False  # the next one is dispatched by hand
    by_hand = _report(db_session, resident, text="3幢楼道灯又不亮了")
    dispatch.assign(db_session, by_hand.id, clerk, worker.id)
    db_session.commit()
    run_jobs()

    assert _alerts(db_session, rotated.id) == ["assigned"]  # no second 'new' alert to the same worker
    assert _alerts(db_session, by_hand.id) == ["new", "assigned"]
    sent = [m["text"]["content"] for m in fake_wechat.sent_messages("wecom") if m["touser"] == "wang"]
    titles = {t.id: [text.split("：")[0] for text in sent if t.number in text] for t in (rotated, by_hand)}
    assert titles == {rotated.id: ["派给您的工单"], by_hand.id: ["新工单", "派给您的工单"]}
    told = [n.text for n in db_session.scalars(select(Notification).where(Notification.resident_id == resident.id)
                                                .order_by(Notification.id))]
    assert told == [f"您的报修（单号{rotated.number}）已派给王师傅处理。",
                    f"您的报修（单号{by_hand.number}）已派给王师傅处理。"]


@pytest.mark.postgres
def test_two_tickets_reported_at_once_go_to_two_workers(app, db_session, make_resident, make_staff):
    """Both transactions really overlap: each holds its transaction open a moment before committing,
    so without locking the chosen worker's turn both would read the same history and pick the same
    worker. Neither waits for the other: each locks only its own worker's turn (no community-wide lock
    held to commit). (In-memory SQLite has one shared connection, where the race cannot happen: this
    runs on PostgreSQL only.)"""
    resident = make_resident("3")
    a, b = _worker(make_staff, "王师傅", ["3"]), _worker(make_staff, "赵师傅", ["3"])
    _rotation_rule(db_session, resident.community_id)
    for worker in (a, b):  # both were in the rotation before: a worker's very first turn inserts its row,
        db_session.add(RotationTurn(staff_id=worker.id, community_id=resident.community_id, turn=0))
    db_session.commit()  # and a report racing that insert waits for it, once
    resident_id, expected = resident.id, sorted([a.id, b.id])  # read here: the threads use their own sessions
    start, before_commit = threading.Barrier(2), threading.Barrier(2)
    chosen, errors, waited = [], [], []

    def report():
        try:
            with app.app_context():
                start.wait(timeout=5)
                ticket = _report(db.session, db.session.get(Resident, resident_id))
                chosen.append(ticket.assignee_id)
                try:
                    before_commit.wait(timeout=2)  # both routed, both transactions still open
                except threading.BrokenBarrierError:
                    waited.append(True)  # the other one was waiting for this one's lock
                db.session.commit()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=report) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors and sorted(chosen) == expected
    assert not waited, "one report waited for the other's routing to commit"
    db.session.expire_all()
    stored = db.session.scalars(select(Ticket.assignee_id).where(Ticket.dispatch_mode == "rotation"))
    assert sorted(stored) == expected


def test_console_shows_rotation(client, db_session, make_resident, make_staff):
    resident = make_resident("3")
    _worker(make_staff, "王师傅", ["3"])
    _rotation_rule(db_session, resident.community_id)
    ticket = _report(db_session, resident)
    make_staff("property", username="clerk", password="right-password")
    db_session.commit()
    assert login(client, "clerk", "right-password").status_code == 303
    queue = client.get("/console/tickets").get_data(as_text=True)
    assert 'class="dispatch dispatch-rotation">轮派<' in queue
    page = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert '<dd id="ticket-dispatch">轮派</dd>' in page and "轮派给王师傅" in page
    assert client.get(f"/console/api/tickets/{ticket.id}").get_json()["dispatch_mode"] == "rotation"
    assert set(dispatch.DISPATCH_LABELS) == set(DISPATCH_MODES)


def test_the_demo_rotates_other_repairs_to_the_building_s_worker(db_session):
    from app.community.demo import seed_demo

    seed_demo(db_session)
    resident = db_session.scalar(select(Resident).where(Resident.household_id.is_not(None)).order_by(Resident.id))
    ticket = _report(db_session, resident)
    assert ticket.dispatch_mode == "rotation" and ticket.assignee.username == "repair1"  # repair1 covers 1–6幢
    db_session.add(Building(community_id=resident.community_id, number="99", position=99))  # a new 99幢
    elsewhere = _report(db_session, resident, text="99幢楼道灯不亮", building="99")  # nobody covers 99幢
    assert elsewhere.dispatch_mode == "grab" and elsewhere.assignee_id is None
