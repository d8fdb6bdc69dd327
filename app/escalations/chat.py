"""The escalations' part of a chat turn: a conversation staff hold, safety words, a request for a person, the
offer of one after two misses (Rasa's two-stage fallback), the way back to the bot, the satisfaction answer.

The chat core calls intercept() first in every turn and chat_fallback() last, before its help menu.
Dialog flags: "missed" (the text the bot did not understand last turn), "offer" (a person was offered),
"held_note" (the escalation whose resident was told once how the handoff works), "satisfaction_for".
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from app.chat.conversations import set_dialog, to_naive_utc
from app.chat.models import STAFF_HELD, Conversation
from app.community.models import Resident
from app.core.outbox import enqueue
from app.core.words import HUMAN_WORDS, safety_word, says_cancel
from app.escalations import business_hours, replies
from app.escalations import escalations as svc
from app.escalations.models import Escalation

log = logging.getLogger(__name__)


def intercept(session: Session, conversation: Conversation, text: str, now: datetime,
              parsed=None) -> str | None:
    """Run before the bot: a reply (or SILENT) when escalation decides, None to let the bot answer."""
    # fallback() asks whether the turn before this one was a miss: carried on the session, so a turn that
    # is not a miss writes nothing to the conversation (the flags are cleared only when they were set)
    dialog = conversation.dialog or {}
    session.info["missed_before"] = dialog.get("missed")
    offer = dialog.get("offer")
    if session.info["missed_before"] or offer:
        set_dialog(conversation, missed=None, offer=None, turn=None, fallback_turn=None)
    word = safety_word(text)
    if conversation.state in STAFF_HELD:
        open_one = svc.open_escalation(session, conversation.id)
        if open_one is None:  # state left behind by a deleted row: give the bot back
            conversation.state = "bot"
        else:
            return _held(session, conversation, open_one, text, now, word)
    if conversation.state == "resolved":
        conversation.state = "bot"  # the bot takes the conversation back after a resolution
    rating = _satisfaction(session, conversation, text)
    if rating is not None:
        return rating
    if word:
        svc.escalate(session, conversation, trigger="safety", text=text, now=now, urgent=True)
        return svc.SAFETY_ADVICE[word] + svc.SAFETY_TAIL
    if offer is not None:
        answer = _answer_offer(session, conversation, text, now, offer)
        if answer is not None:
            return answer
    if text in replies.WITHDRAW_WORDS:  # 结束人工 reads as a request for a person: there is none to end
        return replies.NOTHING_TO_END
    if parsed is None:
        parsed = _parse(text, now)
    intent = "human" if text in HUMAN_WORDS else getattr(parsed, "intent", None)
    if intent == "emergency":  # never the menu: advice first, and staff on duty told at once
        svc.escalate(session, conversation, trigger="safety", text=text, now=now, urgent=True)
        return svc.ADVICE["emergency"] + svc.SAFETY_TAIL
    if intent == "human":
        svc.escalate(session, conversation, trigger="human", text=text, now=now)
        return replies.handed_over(business_hours.current(), to_naive_utc(now))
    return None


def _held(session: Session, conversation: Conversation, escalation: Escalation, text: str, now: datetime,
          word: str | None) -> str:
    """A message while staff hold the conversation: stored for them (the door keeps every message); the
    bot stays silent except for safety words, the way back (结束人工) and one note per escalation."""
    escalation.last_activity_at = to_naive_utc(now)
    if word:
        svc.escalate(session, conversation, trigger="safety", text=text, now=now, urgent=True)
        return svc.SAFETY_ADVICE[word] + svc.SAFETY_TAIL
    if text in replies.WITHDRAW_WORDS:
        svc.withdraw(session, escalation, text, now)
        return replies.WITHDRAWN
    if escalation.assignee_id is not None:
        enqueue(session, svc.PING_JOB, escalation.id, (text or "")[:100])
    noted = (conversation.dialog or {}).get("held_note") == escalation.id
    # staff who took the conversation over, or who already answered, are talking with the resident themselves
    if not noted and escalation.trigger != "takeover" and escalation.first_response_at is None:
        set_dialog(conversation, held_note=escalation.id)
        session.flush()
        return replies.held_note(business_hours.current(), to_naive_utc(now))
    session.flush()
    return svc.SILENT


def _answer_offer(session: Session, conversation: Conversation, text: str, now: datetime,
                  offer: dict) -> str | None:
    """The answer to "shall a person help?": yes escalates, no is acknowledged, anything else goes to the bot."""
    if text in replies.ACCEPT_WORDS:
        missed = [m for m in (offer or {}).get("missed") or [] if m]
        summary = f"机器人未能理解：{' / '.join(missed)}" if missed else text
        svc.escalate(session, conversation, trigger="fallback", text=text, now=now, summary=summary)
        return replies.handed_over(business_hours.current(), to_naive_utc(now))
    if text in replies.DECLINE_WORDS:
        return replies.DECLINED
    return None


def chat_fallback(session: Session, conversation: Conversation, resident: Resident | None, text: str,
                  now: datetime, _weak: bool) -> str | None:
    """fallback() as the chat core's last hook before the help menu."""
    return fallback(session, conversation, resident, text, now)


def fallback(session: Session, conversation: Conversation, resident: Resident | None, text: str,
             now: datetime) -> str | None:
    """Where the bot has nothing better than its help menu (Rasa's two-stage fallback): the first miss asks
    to rephrase with suggestions that fit, the second in a row offers a person (escalated only on yes).
    Cancel words and requests for the menu are never misses; None lets the bot show the menu."""
    missed_before = session.info.pop("missed_before", None)
    if not text or text in replies.MENU_WORDS:
        return None
    if says_cancel(text):  # 取消, 算了吧, 不用了谢谢: never a miss
        return replies.CANCEL_ACK
    if missed_before:
        before = [missed_before[:100]] if isinstance(missed_before, str) else []  # True: a flag from before
        set_dialog(conversation, offer={"missed": [*before, text[:100]]})
        return replies.offer(business_hours.current(), to_naive_utc(now))
    set_dialog(conversation, missed=text[:100])
    dialog = conversation.dialog or {}
    return replies.hint(bound=resident is not None, flow=dialog.get("flow"),
                        binding_step=(dialog.get("binding") or {}).get("step"))


def _parse(text: str, now: datetime):
    if not text:
        return None
    try:
        from nlp import parse
        return parse(text, now=now)
    except Exception:  # a parser bug must not stop an escalation decision
        log.exception("escalations: nlp.parse failed")
        return None


def _satisfaction(session: Session, conversation: Conversation, text: str) -> str | None:
    """Record the answer to the satisfaction question; anything else just closes the question."""
    escalation_id = (conversation.dialog or {}).get("satisfaction_for")
    if not escalation_id:
        return None
    set_dialog(conversation, satisfaction_for=None)
    score = svc.SATISFACTION_WORDS.get((text or "").strip())
    if score is None:
        return None
    escalation = session.get(Escalation, escalation_id)
    if escalation is not None and escalation.satisfaction is None:
        escalation.satisfaction = score
    session.flush()
    return svc.SATISFACTION_THANKS
