"""Streets (街道): which communities a street holds, who administers it, and which communities a staff member
may open in the cockpit (their own, and every one of their street when they administer it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cockpit.models import Street, StreetAdmin, StreetCommunity
from app.community.models import Community, Staff


def street_of_admin(session: Session, staff: Staff) -> Street | None:
    """The street this staff member administers, if any."""
    return session.scalar(select(Street).join(StreetAdmin, StreetAdmin.street_id == Street.id)
                          .where(StreetAdmin.staff_id == staff.id))


def communities_of(session: Session, street_id: int) -> list[Community]:
    """The street's communities, in id order."""
    return list(session.scalars(select(Community).join(StreetCommunity, StreetCommunity.community_id == Community.id)
                                .where(StreetCommunity.street_id == street_id).order_by(Community.id)))


def visible_communities(session: Session, staff: Staff) -> list[Community]:
    """The communities this staff member may open: their own, plus their street's when they administer one."""
    own = session.get(Community, staff.community_id)
    street = street_of_admin(session, staff)
    found = communities_of(session, street.id) if street is not None else []
    return ([own] if own is not None and own not in found else []) + found


def ensure_street(session: Session, name: str, community_ids: list[int], admin_ids: list[int] = ()) -> Street:
    """Create (or complete) a street with these communities and admins; a community moves to it from another."""
    street = session.scalar(select(Street).where(Street.name == name))
    if street is None:
        street = Street(name=name)
        session.add(street)
        session.flush()
    for community_id in community_ids:
        link = session.scalar(select(StreetCommunity).where(StreetCommunity.community_id == community_id))
        if link is None:
            session.add(StreetCommunity(street_id=street.id, community_id=community_id))
        else:
            link.street_id = street.id
    for staff_id in admin_ids:
        admin = session.scalar(select(StreetAdmin).where(StreetAdmin.staff_id == staff_id))
        if admin is None:
            session.add(StreetAdmin(street_id=street.id, staff_id=staff_id))
        else:
            admin.street_id = street.id
    session.flush()
    return street
