"""Slot filling from the conversation state: ask only for what is missing, confirm, then act.

One turn: an open flow gets the message as an answer (cancel words end it, an idle flow has
expired, a flow asked the same thing three times offers a person); otherwise a recognised intent
starts its flow. Flows are plain data plus functions; the state is JSON in Conversation.dialog:
{"flow": "repair", "form": {"slots": {...}, "step": "collect|confirm|<custom>", "asking": "location",
"reasks": 0, "touched": "<iso time>"}}.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.chat.conversations import set_dialog
from app.chat.dialog import clarify
from app.chat.env import ChatEnv
from app.chat.models import Conversation
from app.community.models import Resident
from app.core.words import CANCEL_WORDS, HUMAN_WORDS, NO_WORDS, YES_WORDS, says_cancel  # noqa: F401 - the dialog's words

log = logging.getLogger(__name__)

IDLE_MINUTES = 30
MAX_REASKS = 2  # re-asks of one question; the next unusable answer offers a person
START_CONFIDENCE = 0.5
SWITCH_CONFIDENCE = 0.85  # a different flow's request this sure interrupts an open flow
# a one-turn question this sure (我报修的进度怎么样了 0.77) is answered on the side while a flow waits;
# answers to the flow's own question stay below it (地下停车场B区 reads as parking_query at 0.70)
ASIDE_CONFIDENCE = 0.75
OFFER_PERSON = ("抱歉，我还是没弄明白。这次登记先结束了：您可以回复“转人工”，由物业工作人员帮您处理；"
                "也可以重新描述一下问题。")
CANCELLED = "好的，已取消，这次没有提交任何内容。有需要随时告诉我。"
EXPIRED = "刚才的登记超过{minutes}分钟没有回复，已自动取消。请重新描述一下问题，我来帮您登记。"


@dataclass
class Turn:
    """Everything a flow function sees about this message, and the flow's slots so far."""

    session: Session
    conversation: Conversation
    resident: Resident | None
    text: str
    parsed: Any  # nlp Parse or None
    now: datetime
    slots: dict = field(default_factory=dict)
    step: str = "collect"
    env: ChatEnv = field(default_factory=ChatEnv)

    @property
    def channel(self) -> str:
        """oa (official account) or wxa (mini-program chat box)."""
        return self.conversation.channel

    def goto(self, step: str) -> None:
        """Move the flow to a custom step (answered by Flow.steps[step]) or 'confirm'."""
        self.step = step


@dataclass(frozen=True)
class Slot:
    """One thing a flow needs. extract reads an answer (None = not understood)."""

    name: str
    prompt: str | Callable[[Turn], str]
    extract: Callable[[Turn], Any]
    required: Callable[[Turn], bool] = lambda turn: True


@dataclass(frozen=True)
class Flow:
    """A multi-turn request: begin fills slots from the first message, then ask, confirm, complete.

    guard: a reply refusing to start (e.g. not bound), or None.
    review: called once every slot is filled, before confirming; may return a reply after
      turn.goto(<custom step>) to ask something else first (duplicates), or None.
    skip_confirm: complete at once (emergencies).
    steps: custom steps, each answering the message and returning a reply (None = re-ask).
    amend: at the confirm step, a message that corrects or adds to the draft (不对，是暖气片不热; 很急);
      it changes turn.slots and says what changed, or returns None when the message is not about the draft.
    yes_words: what agrees at the confirm step (a flow whose previous step picked by number leaves out "1").
    label: the draft's name when a side question's answer recalls it (您刚才的报修还在等您确认).
    """

    name: str
    intents: tuple[str, ...]
    slots: tuple[Slot, ...]
    begin: Callable[[Turn], dict]
    confirm: Callable[[Turn], str]
    complete: Callable[[Turn], str]
    guard: Callable[[Turn], str | None] = lambda turn: None
    review: Callable[[Turn], str | None] = lambda turn: None
    skip_confirm: Callable[[Turn], bool] = lambda turn: False
    steps: dict[str, Callable[[Turn], str | None]] = field(default_factory=dict)
    step_prompts: dict[str, Callable[[Turn], str]] = field(default_factory=dict)
    amend: Callable[[Turn], str | None] = lambda turn: None
    yes_words: frozenset[str] = YES_WORDS
    label: str = "事"  # what the resident calls the draft when it is recalled: 报修, 预约, 心愿


_flows: dict[str, Flow] = {}
_answers: dict[str, dict[str, Callable[[Turn], str | None]]] = {}


def register(flow: Flow) -> Flow:
    """Make a flow available (a module calls this at import)."""
    _flows[flow.name] = flow
    return flow


def register_answer(intent: str, answer: Callable[[Turn], str | None]) -> None:
    """A one-turn answer for an intent that needs no slots filled (我报修的进度, 我约的体检是几点).

    Several features may answer one intent (我的进度: tickets and wishes): their answers are joined, in
    the order they registered; an answer that has nothing to say returns None."""
    _answers.setdefault(intent, {})[f"{answer.__module__}.{answer.__qualname__}"] = answer


def one_turn_answer(intent: str | None, turn: Turn) -> str | None:
    """The registered answers to an intent, joined; None when there are none or none has anything to say."""
    parts = [answer(turn) for answer in _answers.get(intent or "", {}).values()]
    parts = [part for part in parts if part]
    return "\n\n".join(parts) if parts else None


def flows() -> dict[str, Flow]:
    """Every registered flow (each feature's chat module registers its flows when init_app imports it)."""
    return _flows


def _for_intent(intent: str | None) -> Flow | None:
    return next((f for f in flows().values() if intent in f.intents), None)


def active_flow(conversation: Conversation) -> Flow | None:
    """The registered flow this conversation is in, if any (binding is the chat core's own)."""
    return flows().get((conversation.dialog or {}).get("flow") or "")


def pending_hint(conversation: Conversation) -> str:
    """The line that recalls an open draft after a side question: what it is and what it waits for."""
    flow = active_flow(conversation)
    form = (conversation.dialog or {}).get("form") or {}
    what = flow.label if flow is not None else "事"
    if form.get("step") == "confirm":
        return f"（您刚才的{what}还在等您确认：回复“确认”提交，或回复“取消”放弃。）"
    return f"（您刚才的{what}还没办完：接着回复即可，或回复“取消”放弃。）"


def end(conversation: Conversation) -> None:
    """Close whatever flow is open."""
    set_dialog(conversation, flow=None, form=None)


def _save(turn: Turn, flow: Flow, *, asking: str | None, reasks: int = 0) -> None:
    set_dialog(turn.conversation, flow=flow.name, form={
        "slots": turn.slots, "step": turn.step, "asking": asking, "reasks": reasks,
        "touched": turn.now.isoformat(),
    })


def _expired(form: dict, now: datetime) -> bool:
    try:
        touched = datetime.fromisoformat(form.get("touched") or "")
    except ValueError:
        return True
    if touched.tzinfo is None or now.tzinfo is None:
        touched, now = touched.replace(tzinfo=None), now.replace(tzinfo=None)
    return now - touched > timedelta(minutes=IDLE_MINUTES)


def respond(session: Session, conversation: Conversation, resident: Resident | None, text: str, parsed: Any,
            now: datetime, env: ChatEnv | None = None) -> str | None:
    """This message's reply from the dialog, or None when no flow is concerned."""
    guessed = clarify.take(conversation, text)
    if guessed is not None:  # the answer to "您是想……吗？" asked last turn
        outcome, agreed, first = guessed
        if outcome == "no":
            return clarify.SAID_NO
        text, parsed = first, agreed
    dialog = conversation.dialog or {}
    flow, form = active_flow(conversation), dialog.get("form") or {}
    intent = getattr(parsed, "intent", None)
    confidence = float(getattr(parsed, "confidence", 0.0) or 0.0)
    if flow is not None and _expired(form, now):
        end(conversation)
        if text in YES_WORDS or text in CANCEL_WORDS:
            return EXPIRED.format(minutes=IDLE_MINUTES)
        flow = None
    if flow is not None:
        if says_cancel(text) or text in HUMAN_WORDS:
            end(conversation)
            return CANCELLED if says_cancel(text) else None
        other = _for_intent(intent)
        sure = confidence >= SWITCH_CONFIDENCE
        if other is None and confidence >= ASIDE_CONFIDENCE and intent in _answers:  # 车位, 进度: answered aside
            aside = one_turn_answer(intent, Turn(session, conversation, resident, text, parsed, now,
                                                 env=env or ChatEnv()))
            if aside is not None:
                return f"{aside}\n\n{pending_hint(conversation)}"
        if not (other is not None and other is not flow and sure):
            turn = Turn(session, conversation, resident, text, parsed, now, dict(form.get("slots") or {}),
                        form.get("step") or "collect", env or ChatEnv())
            return _answer(flow, turn, form)
        end(conversation)
    if confidence < START_CONFIDENCE:
        return None
    turn = Turn(session, conversation, resident, text, parsed, now, env=env or ChatEnv())
    start = _for_intent(intent)
    if start is None:
        return one_turn_answer(intent, turn)
    refusal = start.guard(turn)
    if refusal is not None:
        return refusal
    turn.slots = dict(start.begin(turn))
    return _advance(start, turn)


def _answer(flow: Flow, turn: Turn, form: dict) -> str:
    """An answer to the open flow's question."""
    reasks = int(form.get("reasks") or 0)
    if turn.step == "collect":
        slot = next((s for s in flow.slots if s.name == form.get("asking")), None)
        value = slot.extract(turn) if slot is not None else None
        if value is None:
            return _reask(flow, turn, slot.prompt(turn) if callable(slot.prompt) else slot.prompt, form, reasks)
        turn.slots[slot.name] = value
        return _advance(flow, turn)
    if turn.step == "confirm":
        if turn.text in flow.yes_words:
            end(turn.conversation)
            return flow.complete(turn)
        if turn.text in NO_WORDS:
            end(turn.conversation)
            return CANCELLED
        changed = flow.amend(turn)
        if changed:  # the draft shown again, as corrected
            _save(turn, flow, asking=None)
            return f"{changed}。\n\n" + flow.confirm(turn)
        return _reask(flow, turn, "请回复“确认”提交，或回复“取消”放弃。\n\n" + flow.confirm(turn), form, reasks)
    handler = flow.steps.get(turn.step)
    step_before = turn.step
    reply = handler(turn) if handler is not None else None
    if reply is None:
        prompt = flow.step_prompts.get(step_before, flow.confirm)(turn)
        return _reask(flow, turn, prompt, form, reasks)
    return reply


def _reask(flow: Flow, turn: Turn, prompt: str, form: dict, reasks: int) -> str:
    if reasks >= MAX_REASKS:
        end(turn.conversation)
        return OFFER_PERSON
    _save(turn, flow, asking=form.get("asking"), reasks=reasks + 1)
    return f"抱歉，我没看明白。{prompt}"


def _advance(flow: Flow, turn: Turn) -> str:
    """Ask for the next missing slot, or review, confirm or complete."""
    for slot in flow.slots:
        if turn.slots.get(slot.name) in (None, "") and slot.required(turn):
            turn.step = "collect"
            _save(turn, flow, asking=slot.name)
            return slot.prompt(turn) if callable(slot.prompt) else slot.prompt
    reply = flow.review(turn)
    if reply is not None:
        _save(turn, flow, asking=None)
        return reply
    return proceed(flow, turn)


def proceed(flow: Flow, turn: Turn) -> str:
    """After review: confirm (or complete at once when the flow says so)."""
    if flow.skip_confirm(turn):
        end(turn.conversation)
        return flow.complete(turn)
    turn.step = "confirm"
    _save(turn, flow, asking=None)
    return flow.confirm(turn)


def save(flow: Flow, turn: Turn) -> None:
    """Keep a custom step's changes to the slots (e.g. a photo received mid-flow)."""
    _save(turn, flow, asking=(turn.conversation.dialog or {}).get("form", {}).get("asking"))
