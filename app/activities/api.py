"""Activities and clubs in the mini-program: list and search activities, sign up, cancel, confirm a promotion,
check in with the venue's code, feedback, my sign-ups; clubs to join and leave."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from flask import jsonify
from pydantic import Field

from app.activities import activities, clubs, signups
from app.activities.models import SIGNUP_STATUSES, STATUS_LABELS, Activity, Signup
from app.binding.me_api import current_resident
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import Conflict, ValidationFailed
from miniprogram_api.openapi import api_route
from miniprogram_api.schemas import COMPONENTS, ERROR_RESPONSES, ref
from miniprogram_api.validation import Body, ErrorCode, Int, Query, RequiredText, Text

CHANNEL = "wxa"
TAGS = ("activities",)
ERRORS = {s: ERROR_RESPONSES[s] for s in (403, 404, 409, 422)}
COMPONENTS["Activity"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "description": {"type": "string"},
    "place": {"type": "string"}, "starts_at": {"type": "string", "format": "date-time"},
    "ends_at": {"type": "string", "format": "date-time"}, "label": {"type": "string"},
    "capacity": {"type": "integer", "description": "0 = 不限"},
    "seats_left": {"type": "integer", "nullable": True, "description": "null = 不限"},
    "status": {"type": "string", "enum": ["open", "cancelled"]},
    "club": {"type": "string", "nullable": True}}}
COMPONENTS["ActivitySignup"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": list(SIGNUP_STATUSES)},
    "status_label": {"type": "string"}, "activity": ref("Activity"),
    "offer_expires_at": {"type": "string", "format": "date-time", "nullable": True,
                         "description": "候补转正待确认时的确认截止时间"},
    "checked_in": {"type": "boolean"}, "rating": {"type": "integer", "nullable": True}}}
COMPONENTS["Club"] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
    "organiser": {"type": "string"}, "schedule": {"type": "string"}, "members": {"type": "integer"},
    "joined": {"type": "boolean"}}}
SIGNUP_OK = {"description": "成功", **ref("ActivitySignup")}


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def activity_json(activity: Activity) -> dict:
    """An activity as the mini-program shows it."""
    return {"id": activity.id, "title": activity.title, "description": activity.description or "",
            "place": activity.place or "", "starts_at": _iso(activity.starts_at), "ends_at": _iso(activity.ends_at),
            "label": signups.when_label(activity), "capacity": activity.capacity, "seats_left": activity.seats_left,
            "status": activity.status, "club": activity.club.name if activity.club is not None else None}


def signup_json(row: Signup) -> dict:
    """One of the resident's sign-ups."""
    return {"id": row.id, "status": row.status, "status_label": STATUS_LABELS[row.status],
            "activity": activity_json(row.activity), "offer_expires_at": _iso(row.offer_expires_at),
            "checked_in": row.checked_in_at is not None, "rating": row.rating}


class ActivitiesQuery(Query):
    """Activities to come: all, those called q, or between two days."""

    q: Text(30) = Field(None, title="活动名称", examples=["太极拳"])
    date_from: Annotated[str, ErrorCode.of("bad_date", "日期格式应为 YYYY-MM-DD"),
                         Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] = Field(None, title="开始日期")
    date_to: Annotated[str, ErrorCode.of("bad_date", "日期格式应为 YYYY-MM-DD"),
                       Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")] = Field(None, title="结束日期")


class MineQuery(Query):
    """?all=1 for past and withdrawn sign-ups too."""

    all: Literal["0", "1"] = Field("0", title="全部", description="1：包括已结束和已取消的")


class CheckinBody(Body):
    """The 6-digit code shown at the venue."""

    code: RequiredText(6) = Field(title="签到码", examples=["123456"])


class FeedbackBody(Body):
    """A rating (1-5) and a few words after the activity."""

    rating: Int(1, 5) = Field(title="评分")
    text: Text(500) = Field("", title="评价")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", code="bad_date") from None


@api_route("/activities", summary="社区活动（可按名称、日期筛选）", tags=TAGS, query=ActivitiesQuery,
           responses={200: {"description": "成功", "type": "object", "properties": {
               "activities": {"type": "array", "items": ref("Activity")}}}, **ERRORS})
def activities_list(query: ActivitiesQuery):
    """Activities of the resident's community not yet ended, soonest first."""
    resident = current_resident()
    rows = activities.upcoming(db.session, resident.community_id, day_from=_day(query.date_from),
                               day_to=_day(query.date_to), phrase=query.q or None, limit=100)
    return jsonify({"activities": [activity_json(a) for a in rows]})


@api_route("/activities/mine", summary="我的报名", tags=TAGS, query=MineQuery,
           responses={200: {"description": "成功", "type": "object", "properties": {
               "signups": {"type": "array", "items": ref("ActivitySignup")}}}, 403: ERROR_RESPONSES[403]})
def activities_mine(query: MineQuery):
    """The resident's sign-ups to come (or all with ?all=1)."""
    rows = signups.my_signups(db.session, current_resident(), upcoming=query.all != "1")
    return jsonify({"signups": [signup_json(s) for s in rows]})


@api_route("/activities/<id:activity_id>/signup", methods=("POST",), summary="报名（满员则候补）", tags=TAGS,
           responses={201: SIGNUP_OK, **ERRORS})
def activities_signup(activity_id: int):
    """A seat (status confirmed) or a place on the waitlist (status waiting)."""
    row = signups.sign_up(db.session, current_resident(), activity_id, source=CHANNEL)
    return jsonify(signup_json(row)), 201


def _mine(activity_id: int) -> Signup:
    resident = current_resident()
    activity = signups.get_activity(db.session, activity_id, resident.community_id)
    row = signups.signup_of(db.session, activity.id, resident.id)
    if row is None:
        raise Conflict("您没有报名这个活动", code="not_signed_up")
    return row


@api_route("/activities/<id:activity_id>/cancel", methods=("POST",), summary="取消报名", tags=TAGS,
           responses={200: SIGNUP_OK, **ERRORS})
def activities_cancel(activity_id: int):
    """Withdraw; a held seat goes to the next waiting resident at once."""
    row = signups.cancel(db.session, _mine(activity_id))
    return jsonify(signup_json(row))


@api_route("/activities/<id:activity_id>/confirm", methods=("POST",), summary="确认候补转正", tags=TAGS,
           responses={200: SIGNUP_OK, **ERRORS})
def activities_confirm(activity_id: int):
    """Take the seat offered after a cancellation, before the deadline."""
    row = signups.confirm_offer(db.session, _mine(activity_id))
    return jsonify(signup_json(row))


@api_route("/activities/<id:activity_id>/checkin", methods=("POST",), summary="签到（现场签到码）", tags=TAGS,
           body=CheckinBody, responses={200: SIGNUP_OK, **ERRORS})
def activities_checkin(activity_id: int, body: CheckinBody):
    """Check in with the code shown at the venue (from an hour before the start to the end)."""
    row = signups.check_in_with_code(db.session, current_resident(), activity_id, body.code)
    return jsonify(signup_json(row))


@api_route("/activities/<id:activity_id>/feedback", methods=("POST",), summary="活动评价", tags=TAGS,
           body=FeedbackBody, responses={200: SIGNUP_OK, **ERRORS})
def activities_feedback(activity_id: int, body: FeedbackBody):
    """A rating and words after the activity ended, from a participant."""
    row = signups.leave_feedback(db.session, current_resident(), activity_id, body.rating, body.text)
    return jsonify(signup_json(row))


def club_json(club, joined: bool, count: int) -> dict:
    """A club as the mini-program shows it."""
    schedule = ""
    if club.every_weeks:
        schedule = (f"每{'两' if club.every_weeks == 2 else ''}周{signups.WEEKDAYS[club.weekday]} "
                    f"{club.session_time} · {club.place}")
    return {"id": club.id, "name": club.name, "description": club.description or "", "organiser": club.organiser_name,
            "schedule": schedule, "members": count, "joined": joined}


def _club_out(club, resident) -> dict:
    rows = clubs.members(db.session, club)
    return club_json(club, any(m.resident_id == resident.id for m in rows), len(rows))


@api_route("/clubs", summary="兴趣社团", tags=TAGS, responses={200: {"description": "成功", "type": "object",
           "properties": {"clubs": {"type": "array", "items": ref("Club")}}}, 403: ERROR_RESPONSES[403]})
def clubs_list():
    """The community's clubs, with whether the resident is a member."""
    resident = current_resident()
    return jsonify({"clubs": [_club_out(c, resident) for c in clubs.clubs_of(db.session, resident.community_id)]})


@api_route("/clubs/<id:club_id>/join", methods=("POST",), summary="加入社团", tags=TAGS,
           responses={200: {"description": "成功", **ref("Club")}, **ERRORS})
def clubs_join(club_id: int):
    """Join a club (joining twice changes nothing)."""
    resident = current_resident()
    club = clubs.get_club(db.session, club_id, resident.community_id)
    clubs.join(db.session, club, resident, now=utcnow())
    return jsonify(_club_out(club, resident))


@api_route("/clubs/<id:club_id>/leave", methods=("POST",), summary="退出社团", tags=TAGS,
           responses={200: {"description": "成功", **ref("Club")}, **ERRORS})
def clubs_leave(club_id: int):
    """Leave a club."""
    resident = current_resident()
    club = clubs.get_club(db.session, club_id, resident.community_id)
    clubs.leave(db.session, club, resident)
    return jsonify(_club_out(club, resident))
