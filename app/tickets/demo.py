"""Demo data for tickets: routing rules and a handful of repairs and complaints in various states.

Written straight as rows (not through the lifecycle service) so seeding sends no WeChat messages
and enqueues no alerts; the timeline events are the ones the service would have written.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.community.models import Community, Resident, Staff
from app.core.clock import to_local, utcnow
from app.tickets.models import RoutingRule, Ticket, TicketEvent
from app.tickets.sla import DEFAULT_SLA

# (kind, category, building or None = the reporter's room, place, description, status, hours ago, urgent)
DEMO_TICKETS = (
    ("repair", "elevator", "3", "电梯", "3幢电梯按钮失灵，按了没反应", "submitted", 1, False),
    ("repair", "water", None, "家中", "厨房水管漏水严重，地上全是水", "accepted", 2, True),
    ("repair", "lighting", "5", "2单元楼道", "5幢2单元楼道灯不亮了，晚上很黑", "assigned", 20, False),
    ("complaint", "noise", None, "家的楼上", "楼上每天晚上十一点后还在装修，太吵了", "in_progress", 30, False),
    ("repair", "door", "8", "单元门", "8幢单元门门禁刷卡没反应", "resolved", 50, False),
    ("complaint", "sanitation", "10", "垃圾房", "10幢旁边垃圾房两天没人清运，很臭", "closed", 120, False),
)
WORKER_BUILDINGS = {"repair1": ("1", "2", "3", "4", "5", "6"), "repair2": ("7", "8", "9", "10", "28", "30")}
FLOW = ("submitted", "accepted", "assigned", "in_progress", "resolved", "closed")


def seed_tickets(session: Session, community: Community) -> None:
    """Routing rules for the demo staff, and six tickets across the lifecycle (only when there are none)."""
    staff = {s.username: s for s in session.scalars(select(Staff).where(Staff.community_id == community.id))}
    if not session.scalar(select(func.count()).select_from(RoutingRule).where(
            RoutingRule.community_id == community.id)):
        position = 0
        for username, buildings in WORKER_BUILDINGS.items():  # elevators go straight to the building's worker
            for number in buildings:
                position += 1
                session.add(RoutingRule(community_id=community.id, kind="repair", category="elevator",
                                        building=number, mode="assign",
                                        staff_id=staff[username].id if username in staff else None,
                                        position=position))
        # other repairs take turns (轮派) among the repair workers covering the building; none → grab pool
        session.add(RoutingRule(community_id=community.id, kind="repair", mode="rotation", position=100))
        session.add(RoutingRule(community_id=community.id, kind="complaint", mode="assign",
                                staff_id=staff["kefu"].id if "kefu" in staff else None, position=101))
    if session.scalar(select(func.count()).select_from(Ticket).where(Ticket.community_id == community.id)):
        session.flush()
        return
    residents = list(session.scalars(select(Resident).where(Resident.community_id == community.id,
                                                            Resident.household_id.is_not(None))
                                     .order_by(Resident.id).limit(len(DEMO_TICKETS) * 7)))
    if not residents:
        return
    now = utcnow()
    kefu = staff.get("kefu")
    for i, (kind, category, building, place, text, status, hours, urgent) in enumerate(DEMO_TICKETS):
        resident = residents[(i * 7) % len(residents)]
        household = resident.household
        b, u, room = (building, None, None) if building else (household.unit.building.number,
                                                              household.unit.number, household.room)
        created = now - timedelta(hours=hours)
        priority = "urgent" if urgent else "normal"
        label = f"{b}幢{u + '单元' if u else ''}{room or ''} {place}".strip()
        worker = staff.get("repair1" if b in ("1", "2", "3", "4", "5", "6") else "repair2")
        ticket = Ticket(community_id=community.id, kind=kind, category=category, status=status, priority=priority,
                        resident_id=resident.id, household_id=resident.household_id, building=b, unit=u, room=room,
                        place=label, description=text, source="oa", sla_due_at=DEFAULT_SLA.due(created, priority),
                        created_at=created, updated_at=created)
        session.add(ticket)
        session.flush()
        ticket.number = f"{'BX' if kind == 'repair' else 'TS'}{to_local(created):%y%m%d}{ticket.id:04d}"
        steps = FLOW[:FLOW.index(status) + 1]
        session.add(TicketEvent(ticket_id=ticket.id, kind="created", to_status="submitted", actor_kind="resident",
                                actor_id=resident.id, actor_name=resident.name, note=text, created_at=created))
        at = created
        for before, after in zip(steps, steps[1:], strict=False):
            at += timedelta(minutes=25)
            actor = worker if after in ("in_progress", "resolved") else kefu
            note = {"accepted": "已受理", "assigned": f"派给{worker.name if worker else '维修师傅'}",
                    "in_progress": "已上门查看，等配件", "resolved": "已修好", "closed": "住户评价：满意"}[after]
            session.add(TicketEvent(ticket_id=ticket.id, kind=after if after != "closed" else "rated",
                                    from_status=before, to_status=after,
                                    actor_kind="resident" if after == "closed" else "staff",
                                    actor_id=resident.id if after == "closed" else (actor.id if actor else None),
                                    actor_name=resident.name if after == "closed" else (actor.name if actor else ""),
                                    note=note, created_at=at))
            if after == "accepted":
                ticket.accepted_at = at
            if after == "assigned" and worker is not None:
                ticket.assignee_id = worker.id
            if after == "resolved":
                ticket.resolved_at, ticket.outcome = at, "fixed"
            if after == "closed":
                ticket.closed_at = at
    session.flush()
