"""Welfare in the chat, for watched residents only: 我很好 checks in; 我这周去女儿家住 / 我住院了 pause the watch
until a date; 我回来了 ends the pause. Any other message is a sign of life too, but the turn does not pay for
it: the sweep reads when the resident last wrote from their conversations (sweep.chat_signs), so a message
that is none of these phrases costs the chat turn no query at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.community.models import Resident
from app.core.clock import SHANGHAI, to_local
from app.welfare import phrases
from app.welfare import watch as watching
from app.welfare.signals import resident_spoke

CHECKED_IN = "收到，您平安就好！已为您报平安，楼栋管家会放心的。有需要随时发消息给我。"
BACK_HOME = "欢迎回家！已恢复日常关怀。有需要随时发消息给我。"
AWAY = "好的，已记下您{what}到{until}。这段时间家里没有动静，楼栋管家不会来打扰您；{hint}回来后发“我回来了”即可。"
GUESSED = "您没说哪天回来，先按一周记下，可以再告诉我具体日期（如“住到15号”）。"
WHAT = {"away": "外出", "hospital": "住院"}
WISH = {"away": "", "hospital": "祝您早日康复！"}


def _naive_utc(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def early_reply(session: Session, resident: Resident | None, text: str, now: datetime) -> str | None:
    """Chat hook (early reply): note a watched resident's message; answer a check-in, away or back."""
    if resident is None:
        return None
    said = phrases.understand(text, (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(SHANGHAI))
    if said is None:  # the common case: no query; the sweep counts the message from the conversation
        return None
    watch = watching.watch_of_resident(session, resident.id)
    if watch is None:
        return None
    at = _naive_utc(now)
    if said.kind == "checkin":
        resident_spoke(session, watch, "checkin", at)
        return CHECKED_IN
    resident_spoke(session, watch, "chat", at)
    if said.kind == "back":
        if watch.mode in ("away", "hospital"):
            watching.set_mode(session, watch, "normal", until=None, by=f"{resident.name}（本人，聊天）", now=at)
        return BACK_HOME
    watching.set_mode(session, watch, said.kind, until=said.until, by=f"{resident.name}（本人，聊天）", now=at)
    last_day = to_local(said.until - timedelta(minutes=1)).date()  # until is the midnight after that day
    until = f"{last_day.month}月{last_day.day}日"
    return AWAY.format(what=WHAT[said.kind], until=until, hint=(GUESSED if said.guessed else "") + WISH[said.kind])
