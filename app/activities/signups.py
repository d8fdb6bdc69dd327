"""Sign-ups: take a seat or join the waitlist, cancel, promote the next person, confirm, expire, check in,
remind the day before, and feedback afterwards.

No overbooking: a seat is taken by one conditional UPDATE (`capacity = 0 OR taken < capacity`), which
PostgreSQL re-checks on the locked row when requests race, and a CHECK keeps taken <= capacity (the
clinic's technique, app/clinic/bookings.py). That UPDATE locks the activity's row, which every sign-up
for the activity needs, until COMMIT: so it is the last statement of a sign-up (nothing is read after it).
One sign-up per resident and activity: the unique constraint, written through INSERT … ON CONFLICT DO
UPDATE … WHERE the old row is withdrawn. A resident's second request racing the first waits on the
first's row until it commits, then finds it active (already signed up) and takes no seat.
A cancellation promotes the next waiting resident inside the same transaction: the freed seat is offered
to them with a deadline to confirm (24 h, or until 2 h before the start, whichever is sooner); a periodic
job expires unconfirmed offers and offers the seat to the next one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Executable, bindparam, or_, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.activities.models import ACTIVE_SIGNUP, SEAT_STATUSES, STATUS_LABELS, Activity, Signup
from app.community.models import Resident, Staff
from app.core.clock import to_local, utcnow
from app.core.db import conflict_insert
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.notify.notify import notify

OFFER_HOURS = timedelta(hours=24)
OFFER_BEFORE_START = timedelta(hours=2)
CHECKIN_OPENS = timedelta(hours=1)  # the code works from an hour before the start to the end
FEEDBACK_DAYS = timedelta(days=14)
REMIND_BEFORE = timedelta(hours=24)
WEEKDAYS = "一二三四五六日"


class ActivityFull(Conflict):
    code, status, message = "activity_full", 409, "名额已满"


class AlreadySignedUp(Conflict):
    code, status, message = "already_signed_up", 409, "您已经报名了这个活动，不用重复报名"


def when_label(activity: Activity) -> str:
    """12月6日（周六）09:00–10:30."""
    start, end = to_local(activity.starts_at), to_local(activity.ends_at)
    return f"{start.month}月{start.day}日（周{WEEKDAYS[start.weekday()]}）{start:%H:%M}–{end:%H:%M}"


def offer_deadline(activity: Activity, now: datetime) -> datetime:
    """24 hours from now or 2 hours before the start, whichever is sooner; never before now (late offers
    may be confirmed until the start)."""
    deadline = min(now + OFFER_HOURS, activity.starts_at - OFFER_BEFORE_START)
    return deadline if deadline > now else activity.starts_at


def get_activity(session: Session, activity_id: int, community_id: int) -> Activity:
    """An activity of the community (with its club, which every answer about it names), or NotFound."""
    activity = session.get(Activity, activity_id, options=[joinedload(Activity.club)])
    if activity is None or activity.community_id != community_id:
        raise NotFound("没有找到这个活动", code="activity_not_found")
    return activity


def signup_of(session: Session, activity_id: int, resident_id: int) -> Signup | None:
    """The resident's sign-up row for an activity, in any status."""
    return session.scalar(select(Signup).where(Signup.activity_id == activity_id, Signup.resident_id == resident_id))


def _take_seat(session: Session, activity: Activity) -> bool:
    seats = Activity.__table__.c  # a Core UPDATE: the ORM's bulk-UPDATE machinery is not needed here
    taken = session.execute(
        update(Activity.__table__).where(seats.id == activity.id, seats.status == "open",
                                         or_(seats.capacity == 0, seats.taken < seats.capacity))
        .values(taken=seats.taken + 1).returning(seats.taken)).scalar()
    if taken is None:
        if activity.status == "open" and activity.capacity:  # the CHECK keeps taken <= capacity: all taken
            set_committed_value(activity, "taken", activity.capacity)
        else:
            session.expire(activity, ["taken"])
        return False
    set_committed_value(activity, "taken", taken)  # what the row now holds, without reading it again
    return True


def _free_seat(session: Session, activity: Activity) -> None:
    session.execute(update(Activity).where(Activity.id == activity.id, Activity.taken > 0)
                    .values(taken=Activity.taken - 1).execution_options(synchronize_session=False))
    session.expire(activity, ["taken"])


def sign_up(session: Session, resident: Resident, activity_id: int, *, now: datetime | None = None,
            source: str = "wxa", staff: Staff | None = None, waitlist: bool = True) -> Signup:
    """A seat for the resident, or a place on the waitlist when full (ActivityFull if waitlist=False)."""
    now = now or utcnow()
    activity = get_activity(session, activity_id, resident.community_id)
    if activity.status != "open":
        raise Conflict("这个活动已取消", code="activity_cancelled")
    if activity.starts_at <= now:
        raise Conflict("活动已经开始，不能再报名了", code="activity_started")
    if waitlist:
        return _sign_up(session, activity, resident, now=now, source=source, staff=staff)
    with session.begin_nested():  # a refusal leaves nothing written, even for a caller that goes on to commit
        row = _sign_up(session, activity, resident, now=now, source=source, staff=staff, waitlist=False)
    return row


def _sign_up(session: Session, activity: Activity, resident: Resident, *, now: datetime, source: str,
             staff: Staff | None, waitlist: bool = True) -> Signup:
    # The row first, in the status the activity's seats suggest; then the seat, last; the status is
    # corrected only when the seat went otherwise (a seat freed or taken since the activity was read).
    guess = "confirmed" if activity.capacity == 0 or activity.taken < activity.capacity else "waiting"
    row = _write_signup(session, activity, resident, status=guess, now=now, source=source, staff=staff)
    seated = _take_seat(session, activity)
    if not seated and not waitlist:
        session.expire(row)  # rolled back with the savepoint: whoever holds it reads it again
        raise ActivityFull()
    status = "confirmed" if seated else "waiting"
    if status != guess:
        session.execute(update(Signup).where(Signup.id == row.id).values(status=status)
                        .execution_options(synchronize_session=False))
        set_committed_value(row, "status", status)
    set_committed_value(row, "activity", activity)  # the answer names it: no lazy read after the seat
    return row


def _write_signup(session: Session, activity: Activity, resident: Resident, *, status: str, now: datetime,
                  source: str, staff: Staff | None) -> Signup:
    """Insert the sign-up, or reuse the resident's withdrawn one (signing up again after cancelling: back of
    the queue); AlreadySignedUp when theirs is still active. One statement, no lock taken beforehand."""
    values = {"activity_id": activity.id, "resident_id": resident.id, "status": status, "source": source,
              "signed_by_staff_id": staff.id if staff is not None else None, "queued_at": now, "created_at": now}
    row = session.scalars(_upsert(session), values, execution_options={"populate_existing": True}).first()
    if row is None:
        held = signup_of(session, activity.id, resident.id)
        label = STATUS_LABELS[held.status] if held is not None else STATUS_LABELS["confirmed"]
        raise AlreadySignedUp(f"您已经{label}，不用重复报名")
    return row


_UPSERTS: dict[str, Executable] = {}


def _upsert(session: Session) -> Executable:
    """The sign-up's INSERT … ON CONFLICT DO UPDATE for the session's database, built once (its `excluded`
    columns cost more to make than the statement costs to run)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        fields = ("activity_id", "resident_id", "status", "source", "signed_by_staff_id", "queued_at", "created_at")
        table = Signup.__table__
        stmt = conflict_insert(session, table).values({name: bindparam(name) for name in fields})
        again = ("status", "source", "signed_by_staff_id", "queued_at")
        stmt = stmt.on_conflict_do_update(
            index_elements=["activity_id", "resident_id"],
            set_={**{name: stmt.excluded[name] for name in again},
                  "offer_expires_at": None, "cancelled_at": None, "reminded_at": None},
            where=table.c.status.not_in(ACTIVE_SIGNUP))
        # a Core statement read as the ORM row: the ORM's bulk-INSERT machinery costs more than the statement
        _UPSERTS[dialect] = select(Signup).from_statement(stmt.returning(*table.c))
    return _UPSERTS[dialect]


def cancel(session: Session, signup: Signup, *, now: datetime | None = None) -> Signup:
    """The resident withdraws; a seat they held goes to the next waiting resident at once."""
    now = now or utcnow()
    if signup.status not in ACTIVE_SIGNUP:
        raise Conflict("这个报名已经取消了", code="not_cancellable")
    activity = signup.activity
    if activity.starts_at <= now:
        raise Conflict("活动已经开始，不能再取消了", code="not_cancellable")
    held = signup.status in SEAT_STATUSES
    moved = session.execute(update(Signup).where(Signup.id == signup.id, Signup.status.in_(ACTIVE_SIGNUP))
                            .values(status="cancelled", cancelled_at=now, offer_expires_at=None)
                            .execution_options(synchronize_session=False)).rowcount
    session.expire(signup)
    if not moved:
        raise Conflict("这个报名已经取消了", code="not_cancellable")
    if held:
        _free_seat(session, activity)
        promote(session, activity, now=now)
    return signup


def promote(session: Session, activity: Activity, *, now: datetime | None = None) -> list[Signup]:
    """Offer free seats to the waiting residents in order, each with a deadline to confirm; returns them."""
    now = now or utcnow()
    if activity.status != "open" or activity.starts_at <= now:
        return []
    offered: list[Signup] = []
    waiting = list(session.scalars(select(Signup).where(Signup.activity_id == activity.id, Signup.status == "waiting")
                                   .order_by(Signup.queued_at, Signup.id)))
    for row in waiting:
        if not _take_seat(session, activity):
            break
        deadline = offer_deadline(activity, now)
        won = session.execute(update(Signup).where(Signup.id == row.id, Signup.status == "waiting")
                              .values(status="offered", offer_expires_at=deadline)
                              .execution_options(synchronize_session=False)).rowcount
        session.expire(row)
        if not won:  # cancelled or promoted by a racing request: the seat goes back
            _free_seat(session, activity)
            continue
        offered.append(row)
        notify(session, row.resident_id, category="activities", template="notice", now=now,
               text=f"您候补的活动“{activity.title}”（{when_label(activity)}）有空位了！请在"
                    f"{to_local(deadline):%m月%d日 %H:%M}前确认：回复“确认参加”或在小程序里确认，"
                    "逾期名额将让给下一位。",
               data={"activity_id": activity.id})
    session.flush()
    return offered


def confirm_offer(session: Session, signup: Signup, *, now: datetime | None = None) -> Signup:
    """The promoted resident takes the offered seat before the deadline."""
    now = now or utcnow()
    done = session.execute(update(Signup).where(Signup.id == signup.id, Signup.status == "offered",
                                                Signup.offer_expires_at > now)
                           .values(status="confirmed", offer_expires_at=None)
                           .execution_options(synchronize_session=False)).rowcount
    session.expire(signup)
    if not done:
        if signup.status == "confirmed":
            return signup
        raise Conflict("没有待确认的候补名额，或已超过确认时间", code="no_offer")
    return signup


def expire_offers(session: Session, *, now: datetime | None = None) -> int:
    """Offers past their deadline lapse; each seat is offered to the next waiting resident. Returns how many."""
    now = now or utcnow()
    late = list(session.scalars(select(Signup).where(Signup.status == "offered", Signup.offer_expires_at <= now)
                                .limit(500)))
    for row in late:
        moved = session.execute(update(Signup).where(Signup.id == row.id, Signup.status == "offered")
                                .values(status="expired").execution_options(synchronize_session=False)).rowcount
        session.expire(row)
        if moved:
            _free_seat(session, row.activity)
            notify(session, row.resident_id, category="activities", template="notice", now=now,
                   text=f"您没有在期限内确认“{row.activity.title}”的候补名额，名额已让给下一位。")
            promote(session, row.activity, now=now)
    session.flush()
    return len(late)


def check_in(session: Session, signup: Signup, *, by: str, now: datetime | None = None) -> Signup:
    """Mark a confirmed sign-up as arrived (by the resident's code or by staff)."""
    now = now or utcnow()
    if signup.status != "confirmed":
        raise Conflict("只有已报名的可以签到", code="not_signed_up")
    if signup.checked_in_at is None:
        signup.checked_in_at, signup.checked_in_by = now, by
        session.flush()
    return signup


def check_in_with_code(session: Session, resident: Resident, activity_id: int, code: str, *,
                       now: datetime | None = None) -> Signup:
    """The resident types the code shown at the venue, from an hour before the start to the end."""
    now = now or utcnow()
    activity = get_activity(session, activity_id, resident.community_id)
    signup = signup_of(session, activity.id, resident.id)
    if signup is None or signup.status != "confirmed":
        raise Conflict("您没有报名这个活动", code="not_signed_up")
    if not (activity.starts_at - CHECKIN_OPENS <= now <= activity.ends_at):
        raise Conflict("现在不在签到时间内（开始前1小时至结束）", code="checkin_closed")
    if (code or "").strip() != activity.checkin_code:
        raise ValidationFailed("签到码不对，请核对现场公布的6位数字", code="bad_checkin_code")
    return check_in(session, signup, by="code", now=now)


def leave_feedback(session: Session, resident: Resident, activity_id: int, rating: int, text: str = "", *,
                   now: datetime | None = None) -> Signup:
    """A rating (1–5) and words after the activity, from someone who took part."""
    now = now or utcnow()
    activity = get_activity(session, activity_id, resident.community_id)
    signup = signup_of(session, activity.id, resident.id)
    if signup is None or signup.status != "confirmed":
        raise Forbidden("只有参加了活动的居民可以评价", code="not_a_participant")
    if now < activity.ends_at:
        raise Conflict("活动结束后才能评价", code="not_finished")
    if now > activity.ends_at + FEEDBACK_DAYS:
        raise Conflict("活动结束已超过14天，不能再评价了", code="feedback_closed")
    if not 1 <= int(rating) <= 5:
        raise ValidationFailed("评分请在1到5之间", code="bad_rating")
    signup.rating, signup.feedback, signup.feedback_at = int(rating), (text or "").strip()[:500] or None, now
    session.flush()
    return signup


def send_reminders(session: Session, *, now: datetime | None = None) -> int:
    """The day-before reminder to every confirmed sign-up of an activity starting within 24 h, once."""
    now = now or utcnow()
    rows = list(session.scalars(
        select(Signup).join(Activity, Activity.id == Signup.activity_id)
        .where(Signup.status == "confirmed", Signup.reminded_at.is_(None), Activity.status == "open",
               Activity.starts_at > now, Activity.starts_at <= now + REMIND_BEFORE).limit(2000)))
    for row in rows:
        activity = row.activity
        notify(session, row.resident_id, category="activities", template="notice", now=now,
               text=f"活动提醒：您报名的“{activity.title}”将于{when_label(activity)}在{activity.place or '社区'}举行。"
                    "不能参加请回复“取消报名”，把名额让给候补的邻居。",
               data={"activity_id": activity.id})
        row.reminded_at = now
    session.flush()
    return len(rows)


def my_signups(session: Session, resident: Resident, *, upcoming: bool = True,
               now: datetime | None = None) -> list[Signup]:
    """The resident's sign-ups: still-active ones for activities to come (soonest first), or all (newest first)."""
    now = now or utcnow()
    query = select(Signup).join(Activity, Activity.id == Signup.activity_id).where(Signup.resident_id == resident.id)
    if upcoming:
        query = query.where(Signup.status.in_(ACTIVE_SIGNUP), Activity.ends_at > now).order_by(Activity.starts_at)
    else:
        query = query.order_by(Activity.starts_at.desc())
    return list(session.scalars(query.limit(100)))


def roster(session: Session, activity: Activity) -> list[Signup]:
    """Every sign-up of an activity: seats first, then the waitlist in order, then the withdrawn."""
    order = {"confirmed": 0, "offered": 1, "waiting": 2, "expired": 3, "cancelled": 4}
    rows = session.scalars(select(Signup).where(Signup.activity_id == activity.id))
    return sorted(rows, key=lambda s: (order.get(s.status, 9), s.queued_at, s.id))


def overbooked(session: Session, activity_id: int) -> int:
    """Seats held beyond capacity, counted from the sign-ups themselves (0 when all is well)."""
    activity = session.get(Activity, activity_id)
    held = len([s for s in session.scalars(select(Signup.id).where(Signup.activity_id == activity_id,
                                                                     Signup.status.in_(SEAT_STATUSES)))])
    return 0 if activity.capacity == 0 else max(held - activity.capacity, 0)
