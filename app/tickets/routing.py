"""Routing a new ticket by the community's rules (by position: kind, category, building): a named
worker (assign), the grab pool (抢单), or rotation (轮派); staff are alerted either way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.clock import utcnow
from app.core.timeline import SYSTEM
from app.tickets.dispatch import alert_staff
from app.tickets.models import RoutingRule, Ticket
from app.tickets.records import record_event
from app.tickets.rotation import rotate


def matching_rule(session: Session, ticket: Ticket) -> RoutingRule | None:
    """The first active rule (by position) whose kind, category and building fit the ticket."""
    rules = session.scalars(select(RoutingRule).where(RoutingRule.community_id == ticket.community_id,
                                                      RoutingRule.active.is_(True))
                            .order_by(RoutingRule.position, RoutingRule.id))
    for rule in rules:
        if ((rule.kind in (None, "", ticket.kind)) and (rule.category in (None, "", ticket.category))
                and (rule.building in (None, "", ticket.building))):
            return rule
    return None


def route(session: Session, ticket: Ticket, *, now: datetime | None = None) -> RoutingRule | None:
    """Apply the routing rules to a new ticket: a named assignee, the grab pool or rotation; alert staff."""
    rule = matching_rule(session, ticket)
    handed_over = False
    if rule is not None and rule.mode == "assign" and rule.staff_id is not None:
        staff = session.get(Staff, rule.staff_id)
        if staff is not None and staff.active:
            ticket.assignee_id = staff.id
            ticket.dispatch_mode = "assign"
            record_event(session, ticket, "routed", SYSTEM, note=f"按分派规则交给{staff.name}",
                   data={"rule_id": rule.id, "staff_id": staff.id}, now=now)
    elif rule is not None and rule.mode == "grab":
        ticket.dispatch_mode = "grab"
        record_event(session, ticket, "routed", SYSTEM, note="进入抢单池", data={"rule_id": rule.id}, now=now)
    elif rule is not None and rule.mode == "rotation":
        handed_over = rotate(session, ticket, rule, now=now or utcnow())
    if ticket.priority == "urgent" or not handed_over:  # a rotated ticket's worker was alerted by hand_over
        alert_staff(session, ticket, "urgent" if ticket.priority == "urgent" else "new")
    return rule
