"""The demo seed's ticket step: routing rules and tickets across the lifecycle, idempotent, nothing sent."""

from __future__ import annotations

from sqlalchemy import func, select

from app.community.demo import DEMO_COMMUNITY, seed_demo, steps
from app.community.models import Community
from app.core.outbox_job import OutboxJob
from app.tickets import routing
from app.tickets.demo import seed_tickets
from app.tickets.models import RoutingRule, Ticket


def test_seed_builds_rules_and_tickets_in_every_state_once(app, db_session):
    assert seed_tickets in steps()
    seed_demo(db_session)
    db_session.commit()
    # the ticket step's own: the demo community's, not the cockpit's second community or a lock's device order
    community_id = db_session.scalar(select(Community.id).where(Community.name == DEMO_COMMUNITY))
    own = select(Ticket).where(Ticket.community_id == community_id, Ticket.source != "device")
    states = sorted(t.status for t in db_session.scalars(own))
    assert states == sorted(["submitted", "accepted", "assigned", "in_progress", "resolved", "closed"])
    urgent = db_session.scalar(select(Ticket).where(Ticket.priority == "urgent"))
    assert urgent.number.startswith("BX") and urgent.events[0].kind == "created"
    closed = db_session.scalar(select(Ticket).where(Ticket.status == "closed"))
    assert [e.to_status for e in closed.events] == ["submitted", "accepted", "assigned", "in_progress", "resolved",
                                                    "closed"]
    rules = db_session.scalar(select(func.count()).select_from(RoutingRule))
    assert rules > 0
    assert db_session.scalar(select(func.count()).select_from(OutboxJob).where(
        OutboxJob.func.like("app.tickets.jobs%"))) == 0  # seeding alerts nobody
    lift = db_session.scalar(select(Ticket).where(Ticket.category == "elevator"))
    assert routing.matching_rule(db_session, lift).staff.username == "repair1"
    seed_demo(db_session)
    assert db_session.scalar(select(func.count()).select_from(own.subquery())) == 6
    assert db_session.scalar(select(func.count()).select_from(RoutingRule)) == rules
