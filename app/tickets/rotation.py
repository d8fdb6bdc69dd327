"""Rotation (轮派): a routing rule that hands new tickets to the eligible repair workers in turn.

Eligible: active repair workers who may grab the ticket (ticket_dispatch.in_scope: community and
building scope). In turn: the one whose last rotation assignment is oldest, never-assigned first,
ties by staff id. Each choice is an "assigned" event on the ticket's timeline (mode rotation) and its
order is kept per worker in rotation_turn, so the next turn is a lookup by key; a transferred ticket
still counts for the worker it was rotated to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.timeline import SYSTEM
from app.tickets.dispatch import hand_over, in_scope
from app.tickets.models import RotationTurn, RoutingRule, Ticket
from app.tickets.records import record_event

ROTATION_ROLE = "repair_worker"


def eligible_workers(session: Session, ticket: Ticket) -> list[Staff]:
    """Active repair workers who could grab this ticket, by id."""
    staff = session.scalars(select(Staff).where(Staff.community_id == ticket.community_id,
                                                Staff.role == ROTATION_ROLE, Staff.active.is_(True))
                            .order_by(Staff.id))
    return [s for s in staff if in_scope(s, ticket)]


def community_turns(session: Session, community_id: int) -> dict[int, RotationTurn]:
    """The community's rotation turns by staff id (one row per worker ever chosen: a handful)."""
    return {row.staff_id: row for row in session.scalars(
        select(RotationTurn).where(RotationTurn.community_id == community_id))}


def _remember_turn(session: Session, community_id: int, staff_id: int, turns: dict[int, RotationTurn]) -> None:
    """Number this choice above every earlier one of the community (under the community's turn lock)."""
    turn = max((row.turn for row in turns.values()), default=0) + 1
    row = turns.get(staff_id) or session.get(RotationTurn, staff_id)  # a worker moved from another community
    if row is None:
        session.add(RotationTurn(staff_id=staff_id, community_id=community_id, turn=turn))
    else:
        row.community_id, row.turn = community_id, turn


def next_in_turn(workers: list[Staff], turns: dict[int, RotationTurn]) -> Staff:
    """The worker whose turn it is: least recently rotated to, never-chosen first, then lowest id."""
    return min(workers, key=lambda w: (turns[w.id].turn if w.id in turns else 0, w.id))


def _take_turn_lock(session: Session, community_id: int) -> None:
    """Hold the community's rotation rules until commit, so two new tickets take turns choosing.

    Every rotation rule of the community is locked (in id order, so never a deadlock) because the
    turn is shared by all of them: two rules may rotate over the same workers. SQLite ignores
    FOR UPDATE; it runs one writer at a time anyway.
    """
    session.execute(select(RoutingRule.id).where(RoutingRule.community_id == community_id,
                                                 RoutingRule.mode == "rotation")
                    .order_by(RoutingRule.id).with_for_update()).all()


def rotate(session: Session, ticket: Ticket, rule: RoutingRule, *, now: datetime) -> bool:
    """Hand a new ticket to the next worker in turn (True), or open it to the grab pool when none fits."""
    workers = eligible_workers(session, ticket)
    if not workers:
        ticket.dispatch_mode = "grab"
        where = f"{ticket.building}幢" if ticket.building else "这里"
        record_event(session, ticket, "routed", SYSTEM, note=f"轮派：没有负责{where}的维修师傅，进入抢单池",
               data={"rule_id": rule.id, "mode": "rotation", "fallback": "grab"}, now=now)
        return False
    _take_turn_lock(session, ticket.community_id)  # held until commit, so taken after what needs no turn
    turns = community_turns(session, ticket.community_id)
    worker = next_in_turn(workers, turns)
    hand_over(session, ticket, worker, SYSTEM, mode="rotation", note=f"轮派给{worker.name}",
              data={"rule_id": rule.id, "mode": "rotation"}, now=now)
    _remember_turn(session, ticket.community_id, worker.id, turns)
    return True
