"""Clarify instead of giving up: a parse below the confidence cut whose slots are strong (a plate and a
blocking word; a service and a date) gets a yes/no question ("您是想预约下周二的体检吗？").

A feature registers a clarifier for its intent: it reads the turn and returns the question, or None when the
slots are not strong enough. The question is remembered for one turn only: 是 starts the intent's flow with
the remembered slots, 不是 asks for other words, anything else is answered as if no question had been asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.chat.conversations import set_dialog
from app.chat.models import Conversation
from app.community.models import Resident
from app.core.words import NO_WORDS, YES_WORDS

# (parse, text, resident, now) -> the yes/no question, or None
Clarifier = Callable[[Any, str, Resident | None, datetime], str | None]

FLOOR = 0.3  # below this the parser is guessing: no question, however strong the slots look
ASK_TAIL = "回复“是”继续，回复“不是”换个说法。"
SAID_NO = "好的。请换个说法告诉我您想办的事，例如“3号楼电梯坏了”“明天上午测血压”。"
# a yes to a question the bot asked on a guess: the dialog's yes words without the digits
SURE = frozenset(word for word in YES_WORDS if not word.isdigit())

_clarifiers: dict[str, Clarifier] = {}


def register_clarifier(intent: str, clarifier: Clarifier) -> None:
    """Let a weak parse of intent be asked about (the feature's clarifier says whether and how)."""
    _clarifiers[intent] = clarifier


def ask(session: Session, conversation: Conversation, resident: Resident | None, text: str, now: datetime,
        weak: bool, parsed: Any) -> str | None:
    """A fallback: the yes/no question for a weak parse with strong slots, remembered for the next turn."""
    intent = getattr(parsed, "intent", None)
    clarifier = _clarifiers.get(intent or "")
    if not weak or clarifier is None or float(getattr(parsed, "confidence", 0.0) or 0.0) < FLOOR:
        return None
    question = clarifier(parsed, text, resident, now)
    if not question:
        return None
    set_dialog(conversation, clarify={"intent": intent, "slots": dict(parsed.slots), "text": text})
    return f"{question}{ASK_TAIL}"


def take(conversation: Conversation, text: str) -> tuple[str, Any, str] | None:
    """The remembered question's outcome for this message, forgetting it: ("yes", parse, the first message)
    to act on, ("no", None, "") for a no; None when there was no question or the message is about something else."""
    pending = (conversation.dialog or {}).get("clarify")
    if not pending:
        return None
    set_dialog(conversation, clarify=None)
    if text in SURE:
        from nlp import Parse  # noqa: PLC0415 - the parse the resident just agreed to

        return "yes", Parse(pending["intent"], 1.0, pending.get("slots") or {}), pending.get("text") or text
    if text in NO_WORDS or text in {"不是的", "都不是", "不用"}:
        return "no", None, ""
    return None
