"""Who a WeChat user is, noted on the database session for the rest of the request.

A door that reads the user's row anyway (the chat's conversation, the mini-program's token check) loads
the resident bound to the openid in the same statement, with household, unit and building, and notes
it here; binding.resident_for_openid then answers without asking again. The note lasts as long as the
transaction that read it (app.chat.conversations.forget_residents clears it)."""

from __future__ import annotations

from sqlalchemy.orm import Session, joinedload

from app.community.models import Household, Resident, Unit

_KEY = "residents"
UNKNOWN = object()  # nothing noted for this openid


def with_address():
    """The loader option that brings a resident's household, unit and building along in one statement."""
    return joinedload(Resident.household).joinedload(Household.unit).joinedload(Unit.building)


def remember_resident(session: Session, channel: str, openid: str, resident: Resident | None) -> None:
    """Note which resident an openid belongs to (None: nobody). The object itself is kept: the
    session's identity map holds loaded rows only weakly."""
    session.info.setdefault(_KEY, {})[(channel, openid)] = resident


def remembered_resident(session: Session, channel: str, openid: str) -> Resident | None | object:
    """The noted resident (or None: noted as nobody); UNKNOWN when nothing was noted."""
    return session.info.get(_KEY, {}).get((channel, openid), UNKNOWN)


def forget(session: Session) -> None:
    """Drop every note (the transaction that read them ended)."""
    session.info.pop(_KEY, None)

