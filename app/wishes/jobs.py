"""Wish jobs: tell every follower of a step (through notify) and alert the committee when a wish needs review."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Staff
from app.core.errors import WeChatError
from app.core.timeline import SYSTEM
from app.notify.notify import notify
from app.wechat import send_wecom_text
from app.wishes.models import Wish
from app.wishes.review import REVIEW_ROLES
from app.wishes.wishes import STATUS_LABELS, followers, record_event
from workers.context import job

log = logging.getLogger(__name__)
CATEGORY = "property"  # residents can mute it; many in one day are gathered into notify's digest


@job
def tell_followers(session: Session, wish_id: int, text: str) -> int:
    """One notification per follower of the wish; returns how many were recorded."""
    wish = session.get(Wish, wish_id)
    if wish is None:
        return 0
    ids = followers(session, wish.id)
    for resident_id in ids:
        notify(session, resident_id, category=CATEGORY, text=text, template="wish",
               data={"title": wish.title[:20], "status": STATUS_LABELS.get(wish.status, wish.status)},
               link=f"/pages/wishes/detail?id={wish.id}")
    return len(ids)


def alert_text(wish: Wish) -> str:
    """The committee's alert for a wish that reached its threshold."""
    return (f"【心愿待审议】「{wish.title}」已有{wish.supports_count}位住户支持（门槛{wish.threshold}人）。\n"
            f"{wish.description[:100]}\n请在管理后台“心愿”中审议。")


@job
def alert_committee(session: Session, wish_id: int) -> int:
    """Tell the committee (WeChat Work, when configured) that a wish awaits review; returns staff reached."""
    wish = session.get(Wish, wish_id)
    if wish is None:
        return 0
    staff = list(session.scalars(select(Staff).where(Staff.community_id == wish.community_id,
                                                     Staff.role.in_(REVIEW_ROLES), Staff.active.is_(True))))
    user_ids = sorted({s.wecom_userid for s in staff if s.wecom_userid})
    sent = False
    if user_ids:
        try:
            sent = send_wecom_text(current_app._get_current_object(), user_ids, alert_text(wish))
        except WeChatError as err:
            log.warning("wish alert for %s failed: %s", wish.id, err.errcode)
    record_event(session, wish, "alerted", SYSTEM,
           note=f"已提醒业委会{len(staff)}人" + ("（企业微信）" if sent else "（管理后台待审议）"))
    return len(user_ids) if sent else 0
