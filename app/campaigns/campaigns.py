"""Campaigns: draft -> scheduled -> sending -> sent | cancelled, with {name}/{building} templates.

Scheduling writes an outbox row (run_at = the chosen time) for app.campaigns.jobs.start_campaign,
which reads the audience in pages and fans out batch jobs; progress is counted from the deliveries.

An audience naming a health tag is saved and scheduled only for a staff member who may use it
(audience.authorize: a doctor, within their scope); saving and scheduling it are logged as reads of
health data (campaign_draft, campaign_send), with the IP and session the view hands in.
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.campaigns import audience
from app.campaigns.models import Campaign, Delivery
from app.community.models import Staff
from app.core.clock import to_local, utcnow
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.outbox import enqueue
from app.notify.models import CATEGORIES
from app.notify.notify import DEFAULT_TEMPLATES, defer_for_quiet_hours

VARIABLES = ("name", "building")
START_JOB = "app.campaigns.jobs.start_campaign"
EDITABLE = ("title", "body", "audience", "category", "template", "link", "urgent")
PAST_GRACE = timedelta(minutes=5)


def check_body(body: str) -> str:
    """A message template using only {name} and {building} (literal braces doubled)."""
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("群发内容不能为空", code="empty_body")
    if len(body) > 1000:
        raise ValidationFailed("群发内容太长（最多 1000 字）", code="body_too_long")
    try:
        fields = [f for _lit, f, _spec, _conv in string.Formatter().parse(body) if f is not None]
    except ValueError as exc:
        raise ValidationFailed("内容里的花括号不成对；要显示花括号请写成 {{ 或 }}",
                               code="body_template_invalid") from exc
    unknown = [f for f in fields if f not in VARIABLES]
    if unknown:
        raise ValidationFailed(f"内容里只能用 {{name}}（姓名）和 {{building}}（楼号），不认识 {{{unknown[0]}}}",
                               code="body_template_invalid", details={"unknown": unknown})
    return body


def render_body(body: str, *, name: str, building: str | None) -> str:
    """The message one resident gets."""
    return body.format_map({"name": name, "building": f"{building}幢" if building else ""})


def _check(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "title" in out:
        out["title"] = (out["title"] or "").strip()
        if not out["title"] or len(out["title"]) > 100:
            raise ValidationFailed("标题不能为空，最多 100 字", code="title_invalid")
    if "body" in out:
        out["body"] = check_body(out["body"])
    if "audience" in out:
        audience.parse(out["audience"] or "")  # AudienceError (422), positioned in what the user typed
        out["audience"] = out["audience"].strip()
    if "category" in out and out["category"] not in CATEGORIES:
        raise ValidationFailed(f"没有这种通知类别：{out['category']}", code="unknown_category")
    if "template" in out and out["template"] not in DEFAULT_TEMPLATES:
        raise ValidationFailed(f"没有这个消息模板：{out['template']}", code="unknown_template")
    if "urgent" in out:
        out["urgent"] = bool(out["urgent"])
    return out


def _health_check(session: Session, community_id: int, expr: str, staff_id: int | None, *, purpose: str,
                  ip: str | None, session_ref: str | None) -> None:
    """An audience naming a health tag needs a staff member who may use it (Forbidden, logged, otherwise);
    its use is logged as a read of health data. Other audiences pass untouched."""
    node = audience.parse(expr)
    if not audience.names_health(node):
        return
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    if staff is not None and staff.community_id != community_id:
        staff = None
    audience.authorize(session, staff, node, purpose=purpose, ip=ip, session_ref=session_ref)
    audience.log_read(session, staff, node, purpose=purpose, ip=ip, session_ref=session_ref)


def create_draft(session: Session, community_id: int, *, title: str, body: str, audience_expr: str,
                 category: str = "activities", template: str = "notice", link: str | None = None,
                 urgent: bool = False, staff_id: int | None = None, ip: str | None = None,
                 session_ref: str | None = None) -> Campaign:
    """A new draft campaign, its fields checked (the audience expression must parse; one naming a health tag
    only for a staff member who may use it)."""
    fields = _check({"title": title, "body": body, "audience": audience_expr, "category": category,
                     "template": template, "link": link, "urgent": urgent})
    _health_check(session, community_id, fields["audience"], staff_id, purpose="campaign_draft", ip=ip,
                  session_ref=session_ref)
    campaign = Campaign(community_id=community_id, created_by=staff_id, status="draft", total=0,
                        fanout_done=False, **fields)
    session.add(campaign)
    session.flush()
    return campaign


def get(session: Session, community_id: int, campaign_id: int) -> Campaign:
    """A campaign of this community, or NotFound."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.community_id != community_id:
        raise NotFound("没有找到这个群发", code="campaign_not_found")
    return campaign


def update_draft(session: Session, community_id: int, campaign_id: int, *, staff_id: int | None = None,
                 ip: str | None = None, session_ref: str | None = None, **changes: Any) -> Campaign:
    """Change a draft's fields (only drafts can change; a health audience only by one who may use it)."""
    campaign = get(session, community_id, campaign_id)
    if campaign.status != "draft":
        raise Conflict("只有草稿可以修改", code="campaign_not_draft")
    if "audience_expr" in changes:
        changes["audience"] = changes.pop("audience_expr")
    checked = _check({k: v for k, v in changes.items() if k in EDITABLE})
    if "audience" in checked:
        _health_check(session, community_id, checked["audience"], staff_id, purpose="campaign_draft", ip=ip,
                      session_ref=session_ref)
    for key, value in checked.items():
        setattr(campaign, key, value)
    session.flush()
    return campaign


def schedule(session: Session, community_id: int, campaign_id: int, *, at: datetime | None = None,
             now: datetime | None = None, staff_id: int | None = None, ip: str | None = None,
             session_ref: str | None = None) -> Campaign:
    """Schedule a draft to start at `at` (naive UTC; None = now); quiet hours refuse non-urgent times.

    A draft whose audience names a health tag is scheduled only by a staff member who may use it."""
    now = now or utcnow()
    campaign = get(session, community_id, campaign_id)
    if campaign.status != "draft":
        raise Conflict("只有草稿可以安排发送", code="campaign_not_draft")
    # who may send to this audience comes first: a refusal must not depend on the time of day
    _health_check(session, community_id, campaign.audience, staff_id, purpose="campaign_send", ip=ip,
                  session_ref=session_ref)
    at = at or now
    if at < now - PAST_GRACE:
        raise ValidationFailed("发送时间已经过去了", code="schedule_in_past")
    if defer_for_quiet_hours(at, urgent=campaign.urgent) is not None:
        raise ValidationFailed("22:00–07:00 为免打扰时段，非紧急群发请安排在 7:00 至 22:00 之间",
                               code="schedule_in_quiet_hours", details={"local_time": to_local(at).isoformat()})
    taken = session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "draft")
        .values(status="scheduled", scheduled_at=at).execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        raise Conflict("这个群发刚被其他人改动，请刷新", code="campaign_changed")
    session.refresh(campaign)
    enqueue(session, START_JOB, campaign.id, queue="default", run_at=at if at > now else None)
    return campaign


def cancel(session: Session, community_id: int, campaign_id: int) -> Campaign:
    """Cancel a draft, scheduled or sending campaign; what is still queued is skipped."""
    campaign = get(session, community_id, campaign_id)
    taken = session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status.in_(("draft", "scheduled", "sending")))
        .values(status="cancelled", cancelled_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        session.refresh(campaign)
        raise Conflict("这个群发已经发送完毕或已取消" if campaign.status in ("sent", "cancelled")
                       else "这个群发的状态不允许取消", code="campaign_not_cancellable")
    skip_queued(session, campaign.id)
    session.refresh(campaign)
    return campaign


def skip_queued(session: Session, campaign_id: int, lo: int | None = None, hi: int | None = None) -> int:
    """Mark a cancelled campaign's queued deliveries (optionally a resident-id range) as skipped."""
    query = update(Delivery).where(Delivery.campaign_id == campaign_id, Delivery.status == "queued")
    if lo is not None and hi is not None:
        query = query.where(Delivery.resident_id.between(lo, hi))
    return session.execute(
        query.values(status="skipped", reason="cancelled", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def progress(session: Session, campaign: Campaign) -> dict[str, Any]:
    """Counts per delivery status and channel (one query), and `done` of `total`."""
    counts = {status: 0 for status in ("queued", "sending", "sent", "failed", "skipped")}
    channels: dict[str, int] = {}
    for status, channel, n in session.execute(
        select(Delivery.status, Delivery.channel, func.count()).where(Delivery.campaign_id == campaign.id)
        .group_by(Delivery.status, Delivery.channel)
    ):
        counts[status] = counts.get(status, 0) + n
        if status == "sent" and channel:
            channels[channel] = channels.get(channel, 0) + n
    total = sum(counts.values())
    done = counts["sent"] + counts["failed"] + counts["skipped"]
    return {"total": total, "done": done, **counts, "by_channel": channels,
            "percent": round(100 * done / total, 1) if total else (100.0 if campaign.fanout_done else 0.0)}


def to_dict(campaign: Campaign, progress_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The campaign as the staff API shows it."""
    body = {
        "id": campaign.id, "title": campaign.title, "status": campaign.status, "category": campaign.category,
        "audience": campaign.audience, "body": campaign.body, "template": campaign.template,
        "link": campaign.link, "urgent": campaign.urgent,
        "scheduled_at": campaign.scheduled_at.isoformat() + "Z" if campaign.scheduled_at else None,
        "started_at": campaign.started_at.isoformat() + "Z" if campaign.started_at else None,
        "finished_at": campaign.finished_at.isoformat() + "Z" if campaign.finished_at else None,
        "created_at": campaign.created_at.isoformat() + "Z" if campaign.created_at else None,
    }
    if progress_info is not None:
        body["progress"] = progress_info
    return body


def list_campaigns(session: Session, community_id: int, limit: int = 100) -> list[Campaign]:
    """The community's campaigns, newest first."""
    return list(session.scalars(select(Campaign).where(Campaign.community_id == community_id)
                                .order_by(Campaign.id.desc()).limit(limit)))
