"""An author withdraws their own wish while it is still being deliberated, saying why (Consul Democracy style).

The wish ends in the terminal status `withdrawn`; its `reason` keeps the reason code and the author's note
("unfeasible: 位置不够"), a WishEvent records the step, and followers are told once through the usual job.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.community.models import Resident
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, ValidationFailed
from app.core.timeline import resident_actor
from app.wishes.models import Wish
from app.wishes.wishes import STATUS_LABELS, get_wish, move

REASONS = {"duplicated": "已有相同心愿", "started": "已在建设", "unfeasible": "不可行", "done": "已解决"}
WITHDRAWABLE = ("collecting", "under_review")  # still open for deliberation; once decided it is the committee's
MAX_NOTE = 200


def can_withdraw(wish: Wish, resident: Resident) -> bool:
    """Whether this resident may withdraw this wish now."""
    return wish.resident_id == resident.id and wish.status in WITHDRAWABLE


def reason_label(wish: Wish) -> str:
    """The reason as residents read it: 不可行：位置不够 for a withdrawn wish, the committee's words otherwise."""
    if wish.status != "withdrawn":
        return wish.reason or ""
    code, _, note = (wish.reason or "").partition(":")
    return _label(code.strip(), note.strip())


def _label(reason: str, note: str = "") -> str:
    label = REASONS.get(reason, reason)
    return f"{label}：{note}" if note else label


def withdraw(session: Session, wish_id: int, resident: Resident, reason: str, note: str = "",
             now: datetime | None = None) -> Wish:
    """The author takes back their wish (collecting or under review) with one of REASONS and an optional note."""
    now = now or utcnow()
    if not isinstance(reason, str) or reason.strip() not in REASONS:
        raise ValidationFailed("请选择撤回原因：" + "、".join(REASONS.values()), code="bad_reason",
                               details={"reasons": list(REASONS)})
    reason = reason.strip()
    note = (note if isinstance(note, str) else "").strip()[:MAX_NOTE]
    wish = get_wish(session, wish_id, resident.community_id)
    session.refresh(wish, with_for_update=True)  # a committee decision racing this one waits, then is seen
    if wish.resident_id != resident.id:
        raise Forbidden("只有提出心愿的邻居才能撤回它", code="not_author")
    if wish.status not in WITHDRAWABLE:
        raise Conflict(f"这个心愿{STATUS_LABELS[wish.status]}，不能撤回了", code="cannot_withdraw",
                       details={"status": wish.status})
    wish.reason = f"{reason}: {note}" if note else reason
    label = _label(reason, note)
    move(session, wish, "withdrawn", resident_actor(resident), note=label, now=now,
          tell=f"您关注的心愿「{wish.title}」已由提出的邻居撤回，原因：{label}。感谢您的支持。")
    return wish

