"""Health data for features that do not own it: who may read it, and the record of every read.

The clinic owns health records and the rule of who may read them (doctors, within the households
signed to their family-doctor teams and the buildings of their scope); it registers that rule here at
init_app. A feature on the same layer that touches health data (a campaign audience naming
health:red) asks here, and so never imports the clinic. With no rule registered nobody may read it.

Every read is recorded with the staff member, their IP, their console session (`session_ref`, a hash,
never the cookie) and the purpose; services get those as plain arguments from the view.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false
from sqlalchemy.orm import Session

from app.community.models import Staff

HEALTH_TAG_PREFIX = "health"  # the system tags health:red|yellow|green (the clinic's tag rule)


@dataclass(frozen=True)
class HealthAccessRule:
    """What the owner of health data says: whose role may read it, whose data, and how a read is kept."""

    may_read: Callable[[Staff], bool]
    scope: Callable[[Session, Staff], ColumnElement[bool]]  # WHERE on Resident: whose data this staff may read
    # record(session, staff, *, action, purpose, ip, session_ref, resident_id=None, detail=""): one row, flushed
    record: Callable[..., None]


_rule: HealthAccessRule | None = None


def set_rule(rule: HealthAccessRule) -> None:
    """The owner of health data registers who may read it (again replaces)."""
    global _rule  # noqa: PLW0603 - one registry, filled at init_app like the tag rules
    _rule = rule


def may_read(staff: Staff | None) -> bool:
    """Whether this staff member's role (and account) may read health data at all."""
    return staff is not None and _rule is not None and _rule.may_read(staff)


def scope(session: Session, staff: Staff) -> ColumnElement[bool]:
    """A WHERE clause on Resident: the residents whose health data this staff member may read."""
    if _rule is None or not may_read(staff):
        return false()
    return _rule.scope(session, staff)


def record(session: Session, staff: Staff, *, action: str, purpose: str, ip: str | None, session_ref: str | None,
           resident_id: int | None = None, detail: str = "") -> None:
    """Keep one read (or refused attempt) of health data in the access log."""
    if _rule is not None:
        _rule.record(session, staff, action=action, purpose=purpose, ip=ip, session_ref=session_ref,
                     resident_id=resident_id, detail=detail)


def is_health_tag(name: str) -> bool:
    """Whether a tag name names health data in any spelling: health:red, HEALTH:Red, tag:health:red,
    full-width ｈｅａｌｔｈ：ｒｅｄ, or health alone (so nothing slips past a check by its spelling)."""
    text = unicodedata.normalize("NFKC", name).strip().lower()
    while text.startswith("tag:"):
        text = text[4:].strip()
    return text.partition(":")[0].strip() == HEALTH_TAG_PREFIX


def session_ref(staff_id: int, login_at: object, version: object = None) -> str:
    """A stable, non-secret name for one console sign-in (a hash of who and when they signed in)."""
    return hashlib.sha256(f"{staff_id}:{login_at}:{version}".encode()).hexdigest()[:16]
