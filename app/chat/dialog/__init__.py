"""The multi-turn dialog shared by every intent: flows declare slots, prompts, defaults and a confirmation.

A feature adds a flow by writing a module that calls `register(Flow(...))` at import; the
feature's init_app imports it. State lives in `Conversation.dialog` ("flow" + "form").
"""

from app.chat.dialog.core import (
    CANCEL_WORDS,
    IDLE_MINUTES,
    MAX_REASKS,
    NO_WORDS,
    START_CONFIDENCE,
    YES_WORDS,
    Flow,
    Slot,
    Turn,
    active_flow,
    end,
    flows,
    register,
    register_answer,
    respond,
)

__all__ = ["CANCEL_WORDS", "IDLE_MINUTES", "MAX_REASKS", "NO_WORDS", "START_CONFIDENCE",
           "YES_WORDS", "Flow", "Slot", "Turn", "active_flow", "end", "flows", "register", "register_answer",
           "respond"]
