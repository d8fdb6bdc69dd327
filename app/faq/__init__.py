"""faq (常见问题): a community's answers to what residents ask again and again (物业电话多少, 物业费怎么交,
垃圾几点收), kept by staff in the console, matched with rapidfuzz over each question and its synonyms; and
short answers to thanks and goodbyes in the chat.

Public surface: faq (entries, add_entry, update_entry, set_active, find), matching (normalise, rank, best),
small_talk (kind, reply), models (FaqEntry).
"""

from __future__ import annotations

from flask import Flask

from app.chat import hooks, menu
from app.community.demo import add_step as add_seed_step
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """FAQ model, chat answers (info, thanks and goodbyes), console pages, API route and the demo's questions."""
    from app.faq import api, chat, console, models  # noqa: F401, PLC0415 - answers and routes attach on import
    from app.faq.demo import seed_faq  # noqa: PLC0415

    hooks.add_fallback(15, chat.weak_fallback)  # after wish words (10), before a miss counts towards a person (20)
    add_templates(app, __name__)
    add_seed_step(seed_faq)
    menu.add_line("info", 70, "常见问题：如“物业电话多少”“垃圾几点收”")
