"""Announcing an activity to an audience expression (age>=60 AND building:1 ...) through the campaigns:
one call makes the campaign draft and, unless asked to keep it as a draft, schedules its sending."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.activities.models import Activity
from app.activities.signups import when_label
from app.campaigns import campaigns
from app.campaigns.models import Campaign
from app.community.models import Staff
from app.core.clock import utcnow
from app.notify.notify import defer_for_quiet_hours

LINK = "pages/activities/detail?id={id}"


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def announcement_body(activity: Activity) -> str:
    """The campaign's message: {name}, what, when, where, seats, and how to sign up."""
    seats = "名额不限" if activity.capacity == 0 else f"限{activity.capacity}人，报满可候补"
    return (f"{{name}}您好！社区活动“{_literal(activity.title)}”将于{when_label(activity)}在"
            f"{_literal(activity.place or '社区')}举行，{seats}。回复“报名{_literal(activity.title)}”"
            "或在小程序“邻里活动”里报名。")


def announce(session: Session, activity: Activity, staff: Staff, audience_expr: str, *, send: bool = True,
             at: datetime | None = None, now: datetime | None = None, ip: str | None = None) -> Campaign:
    """A campaign for the activity to the audience; scheduled at `at` (None = now; in quiet hours, 07:00) unless
    send=False."""
    campaign = campaigns.create_draft(
        session, activity.community_id, title=f"活动：{activity.title}"[:100], body=announcement_body(activity),
        audience_expr=audience_expr, category="activities", template="notice", link=LINK.format(id=activity.id),
        staff_id=staff.id, ip=ip)
    activity.campaign_id = campaign.id
    session.flush()
    if send:
        now = now or utcnow()
        at = at or now
        at = defer_for_quiet_hours(at, urgent=False) or at  # asked at night: it goes at 07:00
        campaign = campaigns.schedule(session, activity.community_id, campaign.id, at=at, now=now, staff_id=staff.id,
                                      ip=ip)
    return campaign
