"""The multi-turn dialog shared by every intent: flows declare slots, prompts, defaults and a confirmation.

A feature adds a flow by writing a module that calls `register(Flow(...))` at import and adding
the module's dotted name to FLOW_MODULES. State lives in `Conversation.dialog` ("flow" + "form").
"""

from app.services.dialog.core import (
    CANCEL_WORDS,
    FLOW_MODULES,
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

__all__ = ["CANCEL_WORDS", "FLOW_MODULES", "IDLE_MINUTES", "MAX_REASKS", "NO_WORDS", "START_CONFIDENCE",
           "YES_WORDS", "Flow", "Slot", "Turn", "active_flow", "end", "flows", "register", "register_answer",
           "respond"]
