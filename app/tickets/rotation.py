"""Rotation (轮派): a routing rule that hands new tickets to the eligible repair workers in turn.

Eligible: active repair workers who may grab the ticket (ticket_dispatch.in_scope: community and
building scope). In turn: the one whose last rotation assignment is oldest, never-assigned first,
ties by staff id. Each choice is an "assigned" event on the ticket's timeline (mode rotation) and its
order is kept per worker in rotation_turn, so the next turn is a lookup by key; a transferred ticket
still counts for the worker it was rotated to. Reports arriving together lock different workers' turn
rows (choose), so they are routed side by side; a turn is counted last (count_turn), so the row lock it
takes lasts only from there to the commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from app.community.models import Staff
from app.core.db import conflict_insert
from app.core.timeline import SYSTEM
from app.tickets.dispatch import hand_over, in_scope
from app.tickets.models import RotationTurn, RoutingRule, Ticket
from app.tickets.records import record_event

ROTATION_ROLE = "repair_worker"


def _candidates(session: Session, ticket: Ticket) -> list[tuple[Staff, bool]]:
    """The eligible workers (active repair workers who could grab this ticket), by id, each with whether
    they have a turn row yet."""
    rows = session.execute(select(Staff, RotationTurn.staff_id)
                           .outerjoin(RotationTurn, RotationTurn.staff_id == Staff.id)
                           .where(Staff.community_id == ticket.community_id, Staff.role == ROTATION_ROLE,
                                  Staff.active.is_(True)).order_by(Staff.id))
    return [(staff, turn is not None) for staff, turn in rows if in_scope(staff, ticket)]


def _ensure_turns(session: Session, community_id: int, staff_ids: list[int]) -> None:
    """A turn row (turn 0: never chosen) for each of these workers, so the choice can lock one and the
    turn can be counted. Only missing rows are inserted: an insert that meets a row another report has
    locked waits for it."""
    session.execute(conflict_insert(session, RotationTurn)
                    .values([{"staff_id": i, "community_id": community_id, "turn": 0} for i in staff_ids])
                    .on_conflict_do_nothing(index_elements=["staff_id"]))


def choose(session: Session, community_id: int, candidates: list[tuple[Staff, bool]]) -> Staff:
    """The worker whose turn it is: least recently rotated to, never-chosen first, then lowest id.

    With one candidate there is nothing to choose and nothing is locked. With several, the chosen
    worker's turn row is locked to commit, skipping rows other reports hold (SKIP LOCKED): reports
    that arrive together go to different workers side by side instead of queueing on one community
    lock; only when every candidate is being chosen right now does a report wait, for the least
    recently rotated one. SQLite runs one writer at a time anyway."""
    by_id = {w.id: w for w, _has_turn in candidates}
    if len(by_id) == 1:
        return next(iter(by_id.values()))
    pick = (select(RotationTurn.staff_id).where(RotationTurn.staff_id.in_(by_id))
            .order_by(RotationTurn.turn, RotationTurn.staff_id).limit(1))
    chosen = session.scalars(pick.with_for_update(skip_locked=True)).first() \
        or session.scalars(pick.with_for_update()).one()
    return by_id[chosen]


def count_turn(session: Session, community_id: int, staff_id: int) -> None:
    """Number the worker's turn above every earlier choice of the community.

    The UPDATE locks the row until commit, so it is the rotation's last statement: a building's reports
    that all go to its one worker wait on each other only from here to their commit."""
    other = aliased(RotationTurn)  # not correlated with the row being updated: the whole community's turns
    latest = select(func.max(other.turn)).where(other.community_id == community_id).scalar_subquery()
    session.execute(update(RotationTurn).where(RotationTurn.staff_id == staff_id)
                    .values(community_id=community_id, turn=func.coalesce(latest, 0) + 1)
                    .execution_options(synchronize_session=False))


def rotate(session: Session, ticket: Ticket, rule: RoutingRule, *, now: datetime) -> bool:
    """Hand a new ticket to the next worker in turn (True), or open it to the grab pool when none fits."""
    candidates = _candidates(session, ticket)
    if not candidates:
        ticket.dispatch_mode = "grab"
        where = f"{ticket.building}幢" if ticket.building else "这里"
        record_event(session, ticket, "routed", SYSTEM, note=f"轮派：没有负责{where}的维修师傅，进入抢单池",
               data={"rule_id": rule.id, "mode": "rotation", "fallback": "grab"}, now=now)
        return False
    missing = [w.id for w, has_turn in candidates if not has_turn]
    if missing:  # workers never considered before: once each
        _ensure_turns(session, ticket.community_id, missing)
    worker = choose(session, ticket.community_id, candidates)
    hand_over(session, ticket, worker, SYSTEM, mode="rotation", note=f"轮派给{worker.name}",
              data={"rule_id": rule.id, "mode": "rotation"}, now=now)
    count_turn(session, ticket.community_id, worker.id)
    return True
