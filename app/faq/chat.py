"""Common questions and small talk in the chat: `info` answered from the community's entries, thanks and
goodbyes answered shortly, and near-certain matches found even when the parser was unsure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.dialog import Turn, active_flow, register_answer
from app.chat.models import Conversation
from app.community.models import Community, Resident
from app.faq import faq, matching, small_talk

NOT_KNOWN = ("抱歉，这个问题我暂时还答不上来。您可以发送“转人工”，请物业工作人员为您解答；"
             "也可以换个说法再问我。")
NOT_BOUND = ("请先发送“绑定”绑定房号，我就能回答您所在小区的问题；"
             "也可以发送“转人工”，请物业工作人员为您解答。")
ALSO = "您可能还想问：{question}（直接发送这句即可）"


def community_of(session: Session, resident: Resident | None) -> int | None:
    """The resident's community; for someone not bound yet, the only community when there is one."""
    if resident is not None:
        return resident.community_id
    ids = list(session.scalars(select(Community.id).limit(2)))
    return ids[0] if len(ids) == 1 else None


def answer_text(session: Session, community_id: int, text: str, threshold: float = matching.THRESHOLD) -> str | None:
    """The best entry's answer (a close second mentioned), or None when nothing is close enough."""
    top, close = faq.find(session, community_id, text, threshold=threshold)
    if top is None:
        return None
    if close is None:
        return top.entry.answer
    return f"{top.entry.answer}\n\n{ALSO.format(question=close.entry.question)}"


def answer_info(turn: Turn) -> str:
    """`info`: the entry asked about, or a polite "I don't know" that offers a person (never the menu)."""
    community_id = community_of(turn.session, turn.resident)
    if community_id is None:
        return NOT_BOUND
    return answer_text(turn.session, community_id, turn.text) or NOT_KNOWN


def _name(resident: Resident | None) -> str | None:
    return resident.name if resident is not None else None


def answer_greeting(turn: Turn) -> str | None:
    """Thanks and goodbyes get a short answer; None for a plain greeting (the chat core greets with the menu).

    Inside an open flow only thanks are answered (the flow is recalled); 好的 or 没事了 stay the flow's."""
    which = small_talk.kind(turn.text)
    if which is None:
        return None
    if active_flow(turn.conversation) is not None and which != small_talk.THANKS:
        return None
    return small_talk.reply(which, _name(turn.resident))


def weak_fallback(session: Session, _conversation: Conversation, resident: Resident | None, text: str,
                  _now: datetime, weak: bool) -> str | None:
    """When the parser is unsure: 88 or bye said alone, or a near-certain match of a common question."""
    if not weak:
        return None
    which = small_talk.kind(text, whole=True)
    if which is not None:
        return small_talk.reply(which, _name(resident))
    community_id = community_of(session, resident)
    if community_id is None:
        return None
    top = matching.clear_winner(text, faq.entries(session, community_id))
    return top.entry.answer if top is not None else None


register_answer("info", answer_info)
register_answer("greeting", answer_greeting)
