"""What a story expects: facts in the replies (never exact wording) and effects in the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chat.models import STAFF_HELD, Conversation, Message
from app.clinic.models import Booking, ClinicService, FamilyDoctorMember, FamilyDoctorSigning
from app.community.models import Resident, Staff
from app.core.clock import to_local
from app.escalations.models import Escalation
from app.notify.models import Notification
from app.parking.models import CarNotice, Vehicle
from app.tickets.models import Ticket
from app.wishes.models import Wish, WishSupport
from stories.story import parse_day

_FIELD = re.compile(r"\{(name|building|unit|room|address|plate)\}")
# the tables a story may add to, so "nothing filed" and counts look only at what the story made
WATCHED = {"ticket": Ticket, "wish": Wish, "support": WishSupport, "booking": Booking, "car_notice": CarNotice,
           "escalation": Escalation, "notification": Notification, "message": Message}


@dataclass
class Context:
    """What the checks may look at once a story has run."""

    session: Session
    resident: Resident | None
    conversation: Conversation | None
    baseline: dict[str, int]  # table key -> highest id before the story
    start: date  # the community's date when the story began
    sent: list[dict]  # every message the fake WeChat delivered during the story
    fields: dict[str, str]  # {building}, {room}, {plate}... for the reply checks


def baseline(session: Session) -> dict[str, int]:
    """The highest id of every watched table now."""
    return {key: session.scalar(select(func.coalesce(func.max(model.id), 0))) for key, model in WATCHED.items()}


def _new(ctx: Context, key: str):
    model = WATCHED[key]
    return list(ctx.session.scalars(select(model).where(model.id > ctx.baseline[key]).order_by(model.id)))


def fill(text: str, fields: dict[str, str]) -> str:
    """{building}-style placeholders replaced by the resident's own facts."""
    return _FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), text) if "{" in text else text


def reply_problem(reply: str, turn, fields: dict[str, str], later: str) -> str | None:
    """The first thing a reply (and what came later) fails to hold, or None."""
    for item in turn.has:
        options = item if isinstance(item, list) else [item]
        if not any(_found(fill(str(o), fields), reply) for o in options):
            return f"reply lacks {' / '.join(map(str, options))}"
    if turn.has_any and not any(_found(fill(o, fields), reply) for o in turn.has_any):
        return f"reply has none of {turn.has_any}"
    for item in turn.lacks:
        if _found(fill(item, fields), reply):
            return f"reply must not contain {item}"
    for item in turn.later_has:
        options = item if isinstance(item, list) else [item]
        if not any(_found(fill(str(o), fields), later) for o in options):
            return f"nothing reached the resident later with {' / '.join(map(str, options))}"
    for item in turn.later_lacks:
        if _found(fill(item, fields), later):
            return f"a later message must not contain {item}"
    return None


def _found(needle: str, haystack: str) -> bool:
    if needle.startswith("re:"):
        return re.search(needle[3:], haystack) is not None
    return needle in haystack


def effect_problem(ctx: Context, effect: dict) -> str | None:
    """Why one expected effect is not in the database, or None when it is."""
    [(kind, spec)] = effect.items()
    return CHECKS[kind](ctx, spec)


def _match(row: Any, spec: dict, fields: dict) -> bool:
    for key, want in spec.items():
        if key.endswith("_has"):
            value = getattr(row, key[:-4]) or ""
            if not all(fill(w, fields) in value for w in ([want] if isinstance(want, str) else want)):
                return False
        elif key.endswith("_lacks"):
            value = getattr(row, key[:-6]) or ""
            if any(fill(w, fields) in value for w in ([want] if isinstance(want, str) else want)):
                return False
        elif str(getattr(row, key)) != fill(str(want), fields):
            return False
    return True


def _describe(rows: list, names: tuple[str, ...]) -> str:
    if not rows:
        return "none"
    return "; ".join(", ".join(f"{n}={getattr(r, n)!r}" for n in names) for r in rows)


def ticket(ctx: Context, spec: dict) -> str | None:
    """A new ticket matching every field given (kind, category, priority, building, unit, room, place_has...)."""
    spec = dict(spec)
    rows = [t for t in _new(ctx, "ticket") if ctx.resident is None or t.resident_id == ctx.resident.id]
    if any(_match(t, spec, ctx.fields) for t in rows):
        return None
    shown = _describe(rows, ("kind", "category", "priority", "place", "description"))
    return f"no new ticket with {spec}; new: {shown}"


def tickets(ctx: Context, count: int) -> str | None:
    """Exactly count new tickets."""
    rows = _new(ctx, "ticket")
    return None if len(rows) == count else f"{len(rows)} new tickets, expected {count}: " \
        f"{_describe(rows, ('kind', 'category', 'place', 'description'))}"


def nothing_filed(ctx: Context, _spec: Any) -> str | None:
    """No ticket, wish, support, booking, car notice or escalation came of the story."""
    for key in ("ticket", "wish", "support", "booking", "car_notice", "escalation"):
        rows = _new(ctx, key)
        if rows:
            return f"a {key} was filed: {_describe(rows[:1], ('id',))}"
    return None


def escalation(ctx: Context, spec: dict) -> str | None:
    """A new escalation for this conversation (status, urgent, trigger)."""
    rows = [e for e in _new(ctx, "escalation") if ctx.conversation is None or e.conversation_id == ctx.conversation.id]
    if any(_match(e, spec, ctx.fields) for e in rows):
        return None
    return f"no new escalation with {spec}; new: {_describe(rows, ('trigger', 'status', 'urgent'))}"


def escalations(ctx: Context, count: int) -> str | None:
    """Exactly count new escalations."""
    rows = _new(ctx, "escalation")
    return None if len(rows) == count else f"{len(rows)} new escalations, expected {count}: " \
        f"{_describe(rows, ('trigger', 'status', 'summary'))}"


def held(ctx: Context, want: bool) -> str | None:
    """Whether staff hold the conversation at the end (the bot silent) or the bot answers again."""
    state = ctx.conversation.state if ctx.conversation is not None else "bot"
    return None if (state in STAFF_HELD) == bool(want) else f"conversation state is {state}"


def stored(ctx: Context, text: str) -> str | None:
    """An inbound message with this text is kept with the conversation (shown to staff)."""
    rows = [m for m in _new(ctx, "message") if m.direction == "in" and text in (m.content or "")]
    return None if rows else f"no stored message with {text}"


def booking(ctx: Context, spec: dict) -> str | None:
    """A booking of this resident (service code, day, period morning|afternoon, status; new unless old: true)."""
    spec = dict(spec)
    rows = _new(ctx, "booking") if not spec.pop("old", False) else list(ctx.session.scalars(select(Booking)))
    rows = [b for b in rows if ctx.resident is None or b.resident_id == ctx.resident.id]
    day = parse_day(spec.pop("day"), ctx.start) if "day" in spec else None
    period = spec.pop("period", None)
    service = spec.pop("service", None)
    status = spec.pop("status", "booked")
    for b in rows:
        starts = to_local(b.starts_at)
        if service and ctx.session.get(ClinicService, b.service_id).code != service:
            continue
        if day and starts.date() != day or b.status != status:
            continue
        if period and (starts.hour < 12) != (period == "morning"):
            continue
        return None
    shown = [(ctx.session.get(ClinicService, b.service_id).code, str(to_local(b.starts_at))[:16], b.status)
             for b in rows]
    return f"no booking {service} {day} {period} {status}; bookings: {shown or 'none'}"


def bookings(ctx: Context, count: int) -> str | None:
    """Exactly count new bookings (any status)."""
    rows = _new(ctx, "booking")
    return None if len(rows) == count else f"{len(rows)} new bookings, expected {count}"


def wish(ctx: Context, spec: dict) -> str | None:
    """A new wish made by this resident (title_has...)."""
    rows = [w for w in _new(ctx, "wish") if ctx.resident is None or w.resident_id == ctx.resident.id]
    if any(_match(w, spec, ctx.fields) for w in rows):
        return None
    return f"no new wish with {spec}; new: {_describe(rows, ('title',))}"


def supported(ctx: Context, title: str) -> str | None:
    """This resident now supports a wish whose title contains title."""
    for support in _new(ctx, "support"):
        if ctx.resident is not None and support.resident_id != ctx.resident.id:
            continue
        if title in ctx.session.get(Wish, support.wish_id).title:
            return None
    return f"no new support for a wish named {title}"


def wishes(ctx: Context, count: int) -> str | None:
    """Exactly count new wishes."""
    rows = _new(ctx, "wish")
    return None if len(rows) == count else f"{len(rows)} new wishes, expected {count}: {_describe(rows, ('title',))}"


def car_notice(ctx: Context, spec: dict) -> str | None:
    """A new car notice for the plate; owner_told: its owner's household got a message."""
    spec = dict(spec)
    plate = spec.pop("plate")
    owner_told = spec.pop("owner_told", False)
    rows = [n for n in _new(ctx, "car_notice") if n.plate == plate and _match(n, spec, ctx.fields)]
    if not rows:
        return f"no new car notice for {plate} {spec}; new: {_describe(_new(ctx, 'car_notice'), ('plate', 'kind'))}"
    if owner_told:
        households = set(ctx.session.scalars(select(Vehicle.household_id).where(Vehicle.plate == plate)))
        owners = list(ctx.session.scalars(select(Resident).where(Resident.household_id.in_(households))))
        ids, openids = {r.id for r in owners}, {r.oa_openid for r in owners if r.oa_openid}
        told = any(n.resident_id in ids for n in _new(ctx, "notification"))
        told = told or any(m.get("touser") in openids for m in ctx.sent)
        if not told:
            return f"the owner of {plate} was not told"
    return None


def car_notices(ctx: Context, count: int) -> str | None:
    """Exactly count new car notices."""
    rows = _new(ctx, "car_notice")
    return None if len(rows) == count else f"{len(rows)} new car notices, expected {count}"


def doctor_alert(ctx: Context, _spec: Any) -> str | None:
    """Someone of the household's family-doctor team was told (WeCom message, notification or escalation)."""
    signing = ctx.session.scalar(select(FamilyDoctorSigning).where(
        FamilyDoctorSigning.household_id == ctx.resident.household_id)) if ctx.resident else None
    if signing is None:
        return "the household has no family-doctor team (story world)"
    members = list(ctx.session.scalars(select(Staff).join(FamilyDoctorMember, FamilyDoctorMember.staff_id == Staff.id)
                                       .where(FamilyDoctorMember.team_id == signing.team_id)))
    names = {s.username for s in members} | {s.name for s in members}
    for row in _new(ctx, "escalation"):
        if row.assignee_id in {s.id for s in members}:
            return None
    for message in ctx.sent:
        if message.get("touser") and any(n and n in str(message.get("touser")) for n in names):
            return None
    return f"no alert reached {signing.team.name}"


CHECKS = {"ticket": ticket, "tickets": tickets, "nothing_filed": nothing_filed, "escalation": escalation,
          "escalations": escalations, "held": held, "stored": stored, "booking": booking, "bookings": bookings,
          "wish": wish, "supported": supported, "wishes": wishes, "car_notice": car_notice, "car_notices": car_notices,
          "doctor_alert": doctor_alert}
