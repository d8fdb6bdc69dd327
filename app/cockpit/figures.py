"""The counts of one community, straight from the tables: people, tickets, wishes, parking, clinic, escalations,
campaigns. Raw numbers: the privacy rule (app.cockpit.privacy) applies when they are shown."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import distinct, func, inspect, select
from sqlalchemy.orm import Session

from app.chat.conversations import to_naive_utc
from app.community.models import Building, Household, Resident, Tag, Unit, resident_tag
from app.core.clock import SHANGHAI, to_local

LIVING_ALONE_TAG = "独居老人"  # the manual tag staff put on elderly residents living alone
AGE_BANDS = (("0-17", 0, 17), ("18-59", 18, 59), ("60-69", 60, 69), ("70-79", 70, 79), ("80+", 80, 200))


class Presence:
    """Which features this run may read: listed in app.FEATURES and with their tables in the database."""

    def __init__(self, session: Session) -> None:
        from app import FEATURES  # noqa: PLC0415 - the one list of features, read when figures are made

        self.features = set(FEATURES)
        self.tables = set(inspect(session.connection()).get_table_names())

    def has(self, feature: str, *tables: str) -> bool:
        """Whether `feature` is installed and every table named exists."""
        return feature in self.features and all(t in self.tables for t in tables)


def local_day_start(now: datetime, days_back: int = 0) -> datetime:
    """Midnight in Shanghai, `days_back` days before the day of `now` (naive UTC in and out)."""
    day = to_local(now).date() - timedelta(days=days_back)
    return to_naive_utc(datetime.combine(day, time(0), SHANGHAI))


def buildings(session: Session, community_id: int) -> list[dict]:
    """The community's buildings in walking order: id, number, position."""
    rows = session.execute(select(Building.id, Building.number, Building.position)
                           .where(Building.community_id == community_id)
                           .order_by(Building.position, Building.id)).all()
    return [{"id": i, "number": n, "position": p} for i, n, p in rows]


def residents(session: Session, community_id: int, now: datetime) -> dict:
    """Active residents: total, households lived in and on the roster, by building, by age band, living alone."""
    active = (Resident.community_id == community_id) & (Resident.status == "active")
    total = session.scalar(select(func.count(Resident.id)).where(active)) or 0
    occupied = session.scalar(select(func.count(distinct(Resident.household_id)))
                              .where(active, Resident.household_id.is_not(None))) or 0
    households = session.scalar(
        select(func.count(Household.id)).join(Unit, Household.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id).where(Building.community_id == community_id)) or 0
    by_building = dict(session.execute(
        select(Building.number, func.count(Resident.id))
        .join(Household, Resident.household_id == Household.id).join(Unit, Household.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id).where(active).group_by(Building.number)).all())
    year = to_local(now).year
    bands = {label: 0 for label, _lo, _hi in AGE_BANDS} | {"unknown": 0}
    for birth_year, count in session.execute(
            select(Resident.birth_year, func.count(Resident.id)).where(active).group_by(Resident.birth_year)):
        bands[age_band(year, birth_year)] += count
    alone = session.scalar(
        select(func.count(distinct(Resident.id))).join(resident_tag, resident_tag.c.resident_id == Resident.id)
        .join(Tag, Tag.id == resident_tag.c.tag_id)
        .where(active, Tag.community_id == community_id, Tag.name == LIVING_ALONE_TAG)) or 0
    return {"total": total, "households": occupied, "households_total": households,
            "by_building": by_building, "age_bands": bands, "living_alone": alone}


def age_band(year: int, birth_year: int | None) -> str:
    """The age band of someone born in `birth_year`, in `year` (unknown when not given)."""
    if birth_year is None:
        return "unknown"
    age = year - birth_year
    return next((label for label, lo, hi in AGE_BANDS if lo <= age <= hi), "unknown")


def tickets(session: Session, community_id: int, now: datetime) -> dict:
    """Open tickets by status and category; those past their SLA (not accepted in time)."""
    from app.tickets.models import OPEN_STATUSES, Ticket  # noqa: PLC0415 - read only when tickets are installed
    from app.tickets.sla import UNACCEPTED  # noqa: PLC0415

    open_ = (Ticket.community_id == community_id) & Ticket.status.in_(OPEN_STATUSES)
    by_status = dict(session.execute(select(Ticket.status, func.count(Ticket.id)).where(open_)
                                     .group_by(Ticket.status)).all())
    by_category = dict(session.execute(select(Ticket.category, func.count(Ticket.id)).where(open_)
                                       .group_by(Ticket.category)).all())
    breached = session.scalar(select(func.count(Ticket.id)).where(
        Ticket.community_id == community_id, Ticket.status.in_(UNACCEPTED), Ticket.sla_due_at <= now)) or 0
    by_building: dict[str, dict[str, int]] = {}
    for building, kind, count in session.execute(
            select(Ticket.building, Ticket.kind, func.count(Ticket.id)).where(open_, Ticket.building.is_not(None))
            .group_by(Ticket.building, Ticket.kind)):
        by_building.setdefault(building, {})[kind] = count
    overdue_by_building = dict(session.execute(
        select(Ticket.building, func.count(Ticket.id)).where(
            Ticket.community_id == community_id, Ticket.status.in_(UNACCEPTED), Ticket.sla_due_at <= now,
            Ticket.building.is_not(None)).group_by(Ticket.building)).all())
    return {"open": sum(by_status.values()), "by_status": by_status, "by_category": by_category,
            "sla_breached": breached, "by_building": by_building, "overdue_by_building": overdue_by_building}


def wishes(session: Session, community_id: int) -> dict:
    """Wishes by stage (status)."""
    from app.wishes.models import Wish  # noqa: PLC0415

    by_stage = dict(session.execute(select(Wish.status, func.count(Wish.id))
                                    .where(Wish.community_id == community_id).group_by(Wish.status)).all())
    return {"by_stage": by_stage}


def parking(session: Session, community_id: int) -> dict:
    """Each active zone: spaces free and in all, and when its count last came (freshness is judged when shown)."""
    from app.parking.models import ParkingZone  # noqa: PLC0415

    zones = []
    for zone in session.scalars(select(ParkingZone).where(ParkingZone.community_id == community_id,
                                                          ParkingZone.active.is_(True)).order_by(ParkingZone.id)):
        total = zone.fixed_capacity + zone.temporary_capacity
        used = min(zone.fixed_occupied, zone.fixed_capacity) + min(zone.temporary_occupied, zone.temporary_capacity)
        zones.append({"id": zone.id, "name": zone.name, "free": max(0, total - used), "total": total,
                      "updated_at": zone.updated_at.isoformat() if zone.updated_at else None})
    return {"zones": zones, "free": sum(z["free"] for z in zones), "total": sum(z["total"] for z in zones)}


def clinic(session: Session, community_id: int, now: datetime) -> dict:
    """Today's clinic bookings (Shanghai day) by status."""
    from app.clinic.models import Booking  # noqa: PLC0415

    start = local_day_start(now)
    by_status = dict(session.execute(
        select(Booking.status, func.count(Booking.id)).where(
            Booking.community_id == community_id, Booking.starts_at >= start,
            Booking.starts_at < start + timedelta(days=1)).group_by(Booking.status)).all())
    active = sum(n for status, n in by_status.items() if status != "cancelled")
    return {"today": active, "by_status": by_status}


def escalations(session: Session, community_id: int, now: datetime) -> dict:
    """Conversations handed to a person: waiting, with staff, urgent ones waiting, first answers overdue."""
    from app.escalations.models import OPEN_STATUSES, Escalation  # noqa: PLC0415

    open_ = (Escalation.community_id == community_id) & Escalation.status.in_(OPEN_STATUSES)
    by_status = dict(session.execute(select(Escalation.status, func.count(Escalation.id)).where(open_)
                                     .group_by(Escalation.status)).all())
    urgent = session.scalar(select(func.count(Escalation.id)).where(open_, Escalation.status == "waiting",
                                                                      Escalation.urgent.is_(True))) or 0
    late = session.scalar(select(func.count(Escalation.id)).where(
        open_, Escalation.first_response_at.is_(None), Escalation.first_response_due <= now)) or 0
    by_building = dict(session.execute(
        select(Escalation.building, func.count(Escalation.id)).where(open_, Escalation.building.is_not(None))
        .group_by(Escalation.building)).all())
    return {"waiting": by_status.get("waiting", 0), "with_staff": by_status.get("with_staff", 0),
            "urgent_waiting": urgent, "first_response_late": late, "by_building": by_building}


def campaigns(session: Session, community_id: int, now: datetime) -> dict:
    """Campaigns sent in the last 30 days and the messages they delivered."""
    from app.campaigns.models import Campaign, Delivery  # noqa: PLC0415

    since = now - timedelta(days=30)
    sent = (Campaign.community_id == community_id) & (Campaign.status == "sent") & (Campaign.finished_at >= since)
    count = session.scalar(select(func.count(Campaign.id)).where(sent)) or 0
    delivered = session.scalar(select(func.count(Delivery.id)).join(Campaign, Delivery.campaign_id == Campaign.id)
                               .where(sent, Delivery.status == "sent")) or 0
    sending = session.scalar(select(func.count(Campaign.id)).where(
        Campaign.community_id == community_id, Campaign.status == "sending")) or 0
    return {"sent_30d": count, "delivered_30d": delivered, "sending": sending}
