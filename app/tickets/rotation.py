"""Rotation (轮派): a routing rule that hands new tickets to the eligible repair workers in turn.

Eligible: active repair workers who may grab the ticket (ticket_dispatch.in_scope: community and
building scope). In turn: the one whose last rotation assignment is oldest, never-assigned first,
ties by staff id. Each choice is an "assigned" event on the ticket's timeline (mode rotation) and its
order is kept per worker in rotation_turn, so the next turn is a lookup by key; a transferred ticket
still counts for the worker it was rotated to. Reports arriving together lock different workers' turn
rows (take_turn), so they are routed side by side.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.community.models import Staff
from app.core.db import conflict_insert
from app.core.timeline import SYSTEM
from app.tickets.dispatch import hand_over, in_scope
from app.tickets.models import RotationTurn, RoutingRule, Ticket
from app.tickets.records import record_event

ROTATION_ROLE = "repair_worker"


def _candidates(session: Session, ticket: Ticket) -> list[tuple[Staff, int | None]]:
    """The eligible workers (active repair workers who could grab this ticket), by id, each with whether
    they have a turn row yet (its staff id, or None)."""
    rows = session.execute(select(Staff, RotationTurn.staff_id)
                           .outerjoin(RotationTurn, RotationTurn.staff_id == Staff.id)
                           .where(Staff.community_id == ticket.community_id, Staff.role == ROTATION_ROLE,
                                  Staff.active.is_(True)).order_by(Staff.id))
    return [(staff, turn) for staff, turn in rows if in_scope(staff, ticket)]


def _ensure_turns(session: Session, community_id: int, staff_ids: list[int]) -> None:
    """A turn row (turn 0: never chosen) for each of these workers, so the choice can lock one. Only
    missing rows are inserted: an insert that meets a row another report has locked waits for it."""
    session.execute(conflict_insert(session, RotationTurn)
                    .values([{"staff_id": i, "community_id": community_id, "turn": 0} for i in staff_ids])
                    .on_conflict_do_nothing(index_elements=["staff_id"]))


def take_turn(session: Session, community_id: int, candidates: list[tuple[Staff, int | None]]) -> Staff:
    """The worker whose turn it is (least recently rotated to, never-chosen first, then lowest id), their
    turn row locked to commit and numbered above every earlier choice of the community.

    The lock is the chosen worker's row only, skipping rows other reports hold (SKIP LOCKED): reports
    that arrive together go to different workers side by side, instead of queueing on one community
    lock held until each commits. Only when every eligible worker is being chosen right now does a
    report wait, for the least recently rotated one (where a building has one worker, its reports take
    turns on that row). SQLite runs one writer at a time anyway."""
    by_id = {w.id: w for w, _turn in candidates}
    missing = [w.id for w, turn in candidates if turn is None]
    if missing:
        _ensure_turns(session, community_id, missing)
    pick = (select(RotationTurn).where(RotationTurn.staff_id.in_(by_id))
            .order_by(RotationTurn.turn, RotationTurn.staff_id).limit(1))
    row = session.scalars(pick.with_for_update(skip_locked=True)).first() \
        or session.scalars(pick.with_for_update()).one()
    other = aliased(RotationTurn)  # not correlated with the row being updated: the whole community's turns
    latest = select(func.max(other.turn)).where(other.community_id == community_id).scalar_subquery()
    row.community_id, row.turn = community_id, latest + 1  # written with the ticket: one UPDATE
    return by_id[row.staff_id]


def rotate(session: Session, ticket: Ticket, rule: RoutingRule, *, now: datetime) -> bool:
    """Hand a new ticket to the next worker in turn (True), or open it to the grab pool when none fits."""
    candidates = _candidates(session, ticket)
    if not candidates:
        ticket.dispatch_mode = "grab"
        where = f"{ticket.building}幢" if ticket.building else "这里"
        record_event(session, ticket, "routed", SYSTEM, note=f"轮派：没有负责{where}的维修师傅，进入抢单池",
               data={"rule_id": rule.id, "mode": "rotation", "fallback": "grab"}, now=now)
        return False
    worker = take_turn(session, ticket.community_id, candidates)
    hand_over(session, ticket, worker, SYSTEM, mode="rotation", note=f"轮派给{worker.name}",
              data={"rule_id": rule.id, "mode": "rotation"}, now=now)
    return True
