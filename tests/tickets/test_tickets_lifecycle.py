"""Ticket lifecycle: every transition on the timeline with actor and note, residents told, rules enforced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.notify.models import Notification
from app.tickets import dispatch, tickets
from app.tickets.models import RoutingRule, Ticket, TicketEvent
from app.tickets.tickets import Location


def _report(db_session, resident, text="3幢电梯坏了", category="elevator", building="3", **kw):
    return tickets.create_ticket(db_session, resident=resident, kind=kw.pop("kind", "repair"), category=category,
                                 description=text, location=Location(building=building, place="电梯"), **kw)


def _notes(db_session, resident_id):
    return [n.text for n in db_session.scalars(select(Notification).where(Notification.resident_id == resident_id)
                                               .order_by(Notification.id))]


def test_full_lifecycle_writes_a_timeline_and_tells_the_resident(db_session, make_resident, make_staff):
    resident = make_resident("3", "1", "301")
    clerk = make_staff("property")
    worker = make_staff("repair_worker", buildings=["3"])
    ticket = _report(db_session, resident)
    assert ticket.number.startswith("BX") and ticket.number.endswith(f"{ticket.id:04d}")
    assert ticket.status == "submitted" and ticket.priority == "normal"
    assert ticket.sla_due_at - ticket.created_at == timedelta(hours=4)

    dispatch.accept(db_session, ticket.id, clerk, note="收到")
    dispatch.assign(db_session, ticket.id, clerk, worker.id, note="请王师傅去看")
    dispatch.progress(db_session, ticket.id, worker, "已到现场，在换零件", photos=["https://img/before.jpg"])
    dispatch.resolve(db_session, ticket.id, worker, outcome="fixed", note="换了门机板", photos=["https://img/after.jpg"])
    tickets.rate(db_session, ticket.id, resident, overall=5, speed=4, attitude=5, comment="很快")

    events = [(e.kind, e.from_status, e.to_status, e.actor_kind) for e in ticket.events if e.kind != "photo"]
    assert events == [
        ("created", None, "submitted", "resident"), ("accepted", "submitted", "accepted", "staff"),
        ("assigned", "accepted", "assigned", "staff"), ("progress", "assigned", "in_progress", "staff"),
        ("resolved", "in_progress", "resolved", "staff"), ("rated", "resolved", "closed", "resident"),
    ]
    assert ticket.events[2].note == "请王师傅去看" and ticket.events[2].actor_name == "李师傅"
    assert sorted(p.stage for p in ticket.photos) == ["after", "before"]
    assert ticket.status == "closed" and ticket.outcome == "fixed" and ticket.closed_at is not None
    told = _notes(db_session, resident.id)
    assert len(told) == 4  # accepted, assigned, progress, resolved
    assert "已受理" in told[0] and "已到现场" in told[2] and "已修好" in told[3] and "评分" in told[3]


def test_urgent_words_make_an_urgent_ticket_with_a_short_sla(db_session, make_resident):
    resident = make_resident("3")
    ticket = _report(db_session, resident, text="3幢电梯困人了快来")
    assert ticket.priority == "urgent"
    assert ticket.sla_due_at - ticket.created_at == timedelta(minutes=30)
    for text in ("厨房漏水严重", "楼道有燃气味", "5楼着火了"):
        assert tickets.is_urgent(text)
    assert not tickets.is_urgent("楼道灯不亮")


def test_resolution_without_fix_needs_a_reason_and_can_be_reopened_within_7_days(db_session, make_resident,
                                                                                  make_staff):
    resident = make_resident("3")
    clerk = make_staff("property")
    ticket = _report(db_session, resident)
    with pytest.raises(ValidationFailed):
        dispatch.resolve(db_session, ticket.id, clerk, outcome="not_fixed")
    dispatch.resolve(db_session, ticket.id, clerk, outcome="not_fixed", note="配件要等厂家")
    assert ticket.outcome_reason == "配件要等厂家"
    tickets.reopen(db_session, ticket.id, resident, "还是坏的")
    assert ticket.status == "reopened" and ticket.reopen_count == 1 and ticket.accepted_at is None
    dispatch.accept(db_session, ticket.id, clerk)
    dispatch.resolve(db_session, ticket.id, clerk, outcome="fixed", now=utcnow() - timedelta(days=8))
    with pytest.raises(Conflict) as err:
        tickets.reopen(db_session, ticket.id, resident, "又坏了")
    assert err.value.code == "reopen_window_passed"


def test_cancel_only_before_work_and_only_own_household(db_session, make_resident, make_staff):
    resident = make_resident("3", "1", "301")
    spouse = make_resident("3", "1", "301", name="老张")
    stranger = make_resident("4", "1", "401")
    ticket = _report(db_session, resident)
    with pytest.raises(NotFound):
        tickets.cancel(db_session, ticket.id, stranger)
    assert tickets.ticket_for_resident(db_session, ticket.id, spouse) is ticket  # same household sees it
    tickets.cancel(db_session, ticket.id, spouse, "自己修好了")
    assert ticket.status == "cancelled" and ticket.events[-1].actor_name == "老张"
    other = _report(db_session, resident)
    dispatch.assign(db_session, other.id, make_staff("property"), make_staff("repair_worker").id)
    with pytest.raises(Conflict):
        tickets.cancel(db_session, other.id, resident)


def test_routing_rules_assign_by_category_and_building_or_open_the_grab_pool(db_session, make_resident, make_staff):
    resident = make_resident("3")
    lift_man = make_staff("repair_worker", buildings=["3"])
    worker_a, worker_b = make_staff("repair_worker"), make_staff("repair_worker")
    db_session.add_all([
        RoutingRule(community_id=resident.community_id, category="elevator", building="3", mode="assign",
                    staff_id=lift_man.id, position=1),
        RoutingRule(community_id=resident.community_id, kind="repair", mode="grab", position=2),
    ])
    db_session.flush()
    lift = _report(db_session, resident)
    assert lift.assignee_id == lift_man.id and lift.dispatch_mode == "assign"
    light = _report(db_session, resident, text="3幢楼道灯不亮", category="lighting")
    assert light.assignee_id is None and light.dispatch_mode == "grab"
    dispatch.grab(db_session, light.id, worker_a)
    with pytest.raises(Conflict) as err:
        dispatch.grab(db_session, light.id, worker_b)
    assert err.value.code == "already_taken"
    assert light.assignee_id == worker_a.id and light.status == "assigned"
    assert [e.kind for e in light.events][-1] == "grabbed"


def test_staff_scope_limits_what_they_see(db_session, make_resident, make_staff):
    resident = make_resident("3")
    far = make_staff("property", buildings=["9"])
    doctor = make_staff("doctor")
    ticket = _report(db_session, resident)
    with pytest.raises(NotFound):
        dispatch.ticket_for_staff(db_session, ticket.id, far)
    assert dispatch.queue(db_session, far) == []
    assert dispatch.queue(db_session, make_staff("property", buildings=["3"])) == [ticket]
    with pytest.raises(Forbidden):
        dispatch.accept(db_session, ticket.id, doctor)


def test_sla_breach_escalates_once_to_supervisors(app, db_session, make_resident, make_staff, run_jobs,
                                                  fake_wechat, wecom):
    from app.tickets.jobs import check_sla

    resident = make_resident("3")
    boss = make_staff("admin")
    boss.wecom_userid = "boss"
    ticket = _report(db_session, resident)
    ticket.sla_due_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    assert check_sla() == 1
    assert check_sla() == 0  # escalated once
    run_jobs()
    sent = fake_wechat.sent_messages("wecom")
    db_session.expire_all()
    ticket = db_session.get(Ticket, ticket.id)
    assert ticket.escalated_at is not None
    kinds = [e.kind for e in ticket.events]
    assert "escalated" in kinds
    assert any("超时未受理" in m["text"]["content"] and m["touser"] == "boss" for m in sent)


def test_resolved_tickets_close_themselves_after_7_days(db_session, make_resident, make_staff):
    from app.tickets.jobs import check_sla

    resident = make_resident("3")
    ticket = _report(db_session, resident)
    dispatch.resolve(db_session, ticket.id, make_staff("property"), outcome="fixed",
                     now=utcnow() - timedelta(days=7, minutes=1))
    db_session.commit()
    check_sla()
    db_session.expire_all()
    assert db_session.get(Ticket, ticket.id).status == "closed"
    kinds = select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    assert db_session.scalars(kinds).all()[-1] == "closed"  # PostgreSQL returns rows in no set order
