"""chat: conversations and messages, the chat core (one message in, one reply out, for every
channel), the multi-turn dialog that features plug their flows into, the help menu, the mini-program's
chat box, and answers sent later.

Public surface: core (handle_text), dialog (Flow, Slot, register, register_answer), menu (add_line),
conversations, env (ChatEnv).
"""

from __future__ import annotations

from flask import Flask

from app.chat import menu


def init_app(app: Flask) -> None:
    """The chat models and the mini-program's chat box."""
    from sqlalchemy import event  # noqa: PLC0415

    from app.binding.bindings import add_bound_hook  # noqa: PLC0415
    from app.chat import api, hooks, models  # noqa: F401, PLC0415 - routes attach on import
    from app.chat.conversations import forget_residents, link_to_resident  # noqa: PLC0415
    from app.chat.dialog import clarify  # noqa: PLC0415
    from app.core import periodic  # noqa: PLC0415
    from app.core.db import db  # noqa: PLC0415

    # after the features' own fallbacks (moving a booking 5, wish words 10, FAQ 15), before a miss counts (20)
    hooks.add_fallback(17, clarify.ask, with_parse=True)
    add_bound_hook(link_to_resident)
    if not event.contains(db.session, "after_transaction_end", forget_residents):
        event.listen(db.session, "after_transaction_end", forget_residents)
    periodic.every("app.chat.jobs.forget_expired_nonces", "low", interval=3600)  # the replay guard's fallback
    menu.add_line("human", 90, "找物业的人：发送“转人工”")
