"""Who may see and change what about watched residents, and the record of every look.

Everything about a watched resident is sensitive (who lives alone, when they were last seen, their
family's phone). Stewards see the buildings of their scope, grid workers theirs (or the whole community),
admins the whole community; nobody else. Every view is written to the one access log kept for health
data (app.community.health_access), with the purposes below, so admins read one log, not two.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.orm import Session

from app.community import health_access
from app.community.models import Staff
from app.welfare.models import WelfareWatch

VIEW_ROLES = ("admin", "steward", "grid_worker")
EDIT_ROLES = ("admin", "steward")  # consent, threshold, signals, modes
PURPOSES = {"welfare_list": "关怀名单", "welfare_resident": "关怀对象详情", "welfare_check": "关怀提醒处理",
            "welfare_edit": "修改关怀设置", "welfare_photo": "查看探访照片"}


def scope(staff: Staff) -> ColumnElement[bool]:
    """A WHERE clause on WelfareWatch: the watches this staff member may see."""
    clause = WelfareWatch.community_id == staff.community_id
    if staff.building_scope:
        clause = and_(clause, WelfareWatch.building.in_(staff.building_scope))
    return clause if staff.role in VIEW_ROLES else and_(clause, ~true())


def may_see(staff: Staff, watch: WelfareWatch) -> bool:
    """Whether this staff member may see this watch."""
    return (staff.role in VIEW_ROLES and watch.community_id == staff.community_id
            and staff.covers_building(watch.building))


def log(session: Session, staff: Staff, *, action: str, purpose: str, ip: str | None, session_ref: str | None,
        resident_id: int | None = None, detail: str = "") -> None:
    """Keep one look at (or change of, or refused attempt on) welfare data in the access log."""
    health_access.record(session, staff, action=action, purpose=purpose, ip=ip, session_ref=session_ref,
                         resident_id=resident_id, detail=detail[:500])
