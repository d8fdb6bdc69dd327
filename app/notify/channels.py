"""Channel choice and sending: customer-service message inside the 48 h window, then a
mini-program subscribe message where a grant remains, then an official-account template message.

Loading and grant bookkeeping are bulk queries on the caller's session (flush, never commit);
the HTTP sends run without the session, optionally on a thread pool, so one batch of
residents costs a fixed number of queries whatever its size.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from sqlalchemy import ARRAY, ColumnElement, Integer, any_, literal, select, update
from sqlalchemy.orm import Session

from app.chat.models import Conversation
from app.community.models import Building, Household, Resident, Unit
from app.core.clock import to_local, utcnow
from app.core.errors import WeChatError
from app.notify.models import NotificationPreference, SubscribeGrant
from app.wechat import send_customer_text, send_subscribe_message, send_template_message
from app.wechat.errcodes import NEVER_RETRY, NO_GRANT, RATE_ERRORS, RETRY_LATER

CUSTOM, SUBSCRIBE, TEMPLATE = "custom", "subscribe", "template"
# A little short of WeChat's 48 h, so a message composed at the edge is not refused in flight.
WINDOW = timedelta(hours=48) - timedelta(minutes=10)
CHUNK = 500


@dataclass(frozen=True)
class MessageTemplate:
    """A message kind with its mini-program subscribe and official-account template ids."""

    key: str
    title: str
    wxa_template_id: str
    oa_template_id: str


@dataclass(frozen=True)
class Recipient:
    """What channel choice needs to know about one resident, loaded in bulk."""

    resident_id: int
    name: str
    building: str | None
    oa_openid: str | None
    wxa_openid: str | None
    window_open: bool
    muted: frozenset[str] = frozenset()
    quiet_hours: bool = True


@dataclass(frozen=True)
class OutgoingMessage:
    """One message ready to send on any channel."""

    text: str
    template: MessageTemplate
    data: dict[str, str] = field(default_factory=dict)
    link: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one resident's message: sent | failed | skipped | retry (try later)."""

    status: str
    channel: str | None = None
    reason: str | None = None


def channel_plan(recipient: Recipient) -> list[str]:
    """The channels to try for a resident, best first."""
    plan = []
    if recipient.oa_openid and recipient.window_open:
        plan.append(CUSTOM)
    if recipient.wxa_openid:
        plan.append(SUBSCRIBE)
    if recipient.oa_openid:
        plan.append(TEMPLATE)
    return plan


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _among(session: Session, column, ids: Sequence[int]) -> ColumnElement[bool]:
    """column IN ids; on PostgreSQL `= ANY(array)`, one statement text whatever the count (cached, prepared)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def load_recipients(session: Session, resident_ids: Sequence[int]) -> dict[int, Recipient]:
    """Recipients for these residents (three queries per 500): address, 48 h window, preferences."""
    since = utcnow() - WINDOW
    out: dict[int, Recipient] = {}
    for chunk in _chunks(list(resident_ids)):
        rows = session.execute(
            select(Resident.id, Resident.name, Building.number, Resident.oa_openid, Resident.wxa_openid)
            .outerjoin(Household, Resident.household_id == Household.id)
            .outerjoin(Unit, Household.unit_id == Unit.id)
            .outerjoin(Building, Unit.building_id == Building.id)
            .where(_among(session, Resident.id, chunk))
        ).all()
        open_window = set(session.scalars(
            select(Conversation.resident_id).where(
                _among(session, Conversation.resident_id, chunk), Conversation.channel == "oa",
                Conversation.last_inbound_at >= since,
            )
        ))
        prefs = {p.resident_id: p for p in session.scalars(
            select(NotificationPreference).where(_among(session, NotificationPreference.resident_id, chunk))
        )}
        for rid, name, building, oa, wxa in rows:
            pref = prefs.get(rid)
            out[rid] = Recipient(
                rid, name, building, oa, wxa, rid in open_window,
                frozenset(pref.muted or ()) if pref else frozenset(),
                pref.quiet_hours if pref else True,
            )
    return out


def claim_grants(session: Session, template_id: str, resident_ids: Sequence[int]) -> set[int]:
    """Use one subscribe grant of template_id for each resident who has one; returns who had one."""
    got: set[int] = set()
    for chunk in _chunks(list(resident_ids)):
        got.update(session.scalars(
            update(SubscribeGrant)
            .where(SubscribeGrant.template_id == template_id, _among(session, SubscribeGrant.resident_id, chunk),
                   SubscribeGrant.remaining > 0)
            .values(remaining=SubscribeGrant.remaining - 1, updated_at=utcnow())
            .returning(SubscribeGrant.resident_id)
            .execution_options(synchronize_session=False)
        ))
    return got


def refund_grants(session: Session, template_id: str, resident_ids: Sequence[int]) -> None:
    """Give back grants claimed for sends that did not happen."""
    for chunk in _chunks(list(resident_ids)):
        session.execute(
            update(SubscribeGrant)
            .where(SubscribeGrant.template_id == template_id, _among(session, SubscribeGrant.resident_id, chunk))
            .values(remaining=SubscribeGrant.remaining + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def clear_grants(session: Session, template_id: str, resident_ids: Sequence[int]) -> None:
    """WeChat says there is no grant (43101): believe it and set the count to zero."""
    for chunk in _chunks(list(resident_ids)):
        session.execute(
            update(SubscribeGrant)
            .where(SubscribeGrant.template_id == template_id, _among(session, SubscribeGrant.resident_id, chunk))
            .values(remaining=0, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _clip(value: str, size: int) -> str:
    return value if len(value) <= size else value[:size - 1] + "…"


def _fields(message: OutgoingMessage, kind: str) -> dict:
    """Template data: a title, the text and the time, plus the caller's own fields."""
    when = to_local(utcnow()).strftime("%Y-%m-%d %H:%M")
    if kind == SUBSCRIBE:  # subscribe "thing" fields take at most 20 characters
        base = {"thing1": _clip(message.template.title, 20), "thing2": _clip(message.text, 20), "time3": when}
    else:
        base = {"first": message.text, "keyword1": message.template.title, "keyword2": when, "remark": ""}
    return {k: {"value": str(v)} for k, v in {**base, **message.data}.items()}


def send_on(app: Flask, channel: str, recipient: Recipient, message: OutgoingMessage,
            stop: threading.Event | None = None) -> None:
    """Send one message on one channel; raises WeChatError when WeChat refuses (stop: see post_json)."""
    if channel == CUSTOM:
        text = message.text + (f"\n{message.link}" if message.link and message.link.startswith("http") else "")
        send_customer_text(app, recipient.oa_openid or "", text, stop)
    elif channel == SUBSCRIBE:
        page = message.link if message.link and not message.link.startswith("http") else None
        send_subscribe_message(app, recipient.wxa_openid or "", message.template.wxa_template_id,
                               _fields(message, SUBSCRIBE), page=page, stop=stop)
    else:
        url = message.link if message.link and message.link.startswith("http") else None
        page = message.link if message.link and not url else None  # a mini-program page path
        send_template_message(app, recipient.oa_openid or "", message.template.oa_template_id,
                              _fields(message, TEMPLATE), url=url, stop=stop, page=page)


def deliver_all(
    app: Flask,
    session: Session,
    recipients: Sequence[Recipient],
    message_for: Callable[[Recipient], OutgoingMessage],
    pool: Executor | None = None,
) -> dict[int, Outcome]:
    """Send each recipient its message on the best channel, falling back on refusals.

    Rounds: each round every pending resident tries its next channel (subscribe only with a
    claimed grant); refusals such as 45015/45047/43101/43004/40003 move on to the next channel;
    busy and rate-limit errors (after the client's own bounded retries) end as `retry`, and
    once WeChat reports a rate limit the rest of the round is not sent at all.
    """
    people = {r.resident_id: r for r in recipients}
    messages = {rid: message_for(r) for rid, r in people.items()}
    plans = {rid: channel_plan(r) for rid, r in people.items()}
    errors: dict[int, list[str]] = defaultdict(list)
    outcomes: dict[int, Outcome] = {}
    throttled = threading.Event()
    # A batch on a pool shares `throttled` with its sends: the first rate limit stops every retry in flight.
    stop = throttled if pool is not None else None

    def attempt(rid: int) -> tuple[int, str, WeChatError | None]:
        channel = plans[rid][0]
        if throttled.is_set():
            return rid, channel, WeChatError(45009, "not sent: WeChat reported a rate limit in this batch")
        try:
            send_on(app, channel, people[rid], messages[rid], stop)
        except WeChatError as exc:
            if exc.errcode in RATE_ERRORS:
                throttled.set()
            return rid, channel, exc
        return rid, channel, None

    while plans:
        wanted: dict[str, list[int]] = defaultdict(list)
        for rid, plan in plans.items():
            if plan and plan[0] == SUBSCRIBE:
                wanted[messages[rid].template.wxa_template_id].append(rid)
        for template_id, rids in wanted.items():
            granted = claim_grants(session, template_id, rids)
            for rid in rids:
                if rid not in granted:
                    plans[rid].pop(0)
                    errors[rid].append("subscribe: no_grant")
        for rid in [rid for rid, plan in plans.items() if not plan]:
            del plans[rid]
            real_errors = [e for e in errors[rid] if not e.endswith("no_grant")]
            reason = "; ".join(errors[rid]) or "no_channel"
            outcomes[rid] = Outcome("failed" if real_errors else "skipped", None, reason[:200])
        if not plans:
            break
        ids = list(plans)
        results = list(pool.map(attempt, ids)) if pool is not None and len(ids) > 1 else [attempt(r) for r in ids]
        refund: dict[str, list[int]] = defaultdict(list)
        clear: dict[str, list[int]] = defaultdict(list)
        for rid, channel, exc in results:
            plans[rid].pop(0)
            template_id = messages[rid].template.wxa_template_id
            if exc is None:
                outcomes[rid] = Outcome("sent", channel)
                del plans[rid]
                continue
            note = f"{channel}: {exc.errcode} {exc.errmsg}"[:120]
            if channel == SUBSCRIBE:
                (clear if exc.errcode == NO_GRANT else refund)[template_id].append(rid)
            if exc.errcode in RETRY_LATER:
                outcomes[rid] = Outcome("retry", channel, note)
                del plans[rid]
            elif exc.errcode in NEVER_RETRY:
                errors[rid].append(note)  # the next round tries the next channel
            else:  # e.g. a wrong template id: another channel would not fix it
                outcomes[rid] = Outcome("failed", channel, note)
                del plans[rid]
        for template_id, rids in refund.items():
            refund_grants(session, template_id, rids)
        for template_id, rids in clear.items():
            clear_grants(session, template_id, rids)
    session.flush()
    return outcomes
