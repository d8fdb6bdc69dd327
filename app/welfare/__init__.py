"""welfare (独居老人关怀): residents living alone watched, with consent, for signs of life (door lock opened, water
or power used, lift card swiped, a chat message, a check-in); when the signs stop for longer than the person's
threshold, the building's steward is sent to visit (then the grid worker, then the family).

Public surface: watch (start_watch, update_watch, set_mode, due_time, watch_of_resident), checks (raise_check,
acknowledge, record_outcome, sign_of_life), signals (device handlers, resident_spoke), sweep (sweep), orders
(check_devices), board (board, resident_status), access (scope, may_see, log), models (WelfareWatch,
WelfareSignal, WelfareCheck, WelfareCheckEntry, WelfareDeviceOrder).
"""

from __future__ import annotations

from flask import Flask

from app.chat import hooks
from app.community.demo import add_step as add_seed_step
from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Welfare models, device handlers, chat hook, WeChat Work card buttons, console, API, sweep and demo."""
    from app.devices import events  # noqa: PLC0415
    from app.wechat.card_actions import add_card_action  # noqa: PLC0415
    from app.welfare import api, console, models, signals  # noqa: F401, PLC0415 - routes attach on import
    from app.welfare.actions import on_card  # noqa: PLC0415
    from app.welfare.chat import early_reply  # noqa: PLC0415
    from app.welfare.demo import seed_welfare  # noqa: PLC0415
    from app.welfare.sweep import INTERVAL_SECONDS  # noqa: PLC0415

    events.add_handler("door_opened", signals.on_door_opened)
    events.add_handler("meter_reading", signals.on_meter_reading)
    events.add_handler("card_swipe", signals.on_card_swipe)
    hooks.add_early_reply(early_reply)
    add_card_action("welfare", on_card)
    add_templates(app, __name__)
    # every 5 minutes, not hourly: the steward must hear within 15 minutes of a threshold being crossed
    periodic.every("app.welfare.jobs.run_check", "high", interval=INTERVAL_SECONDS)
    add_seed_step(seed_welfare)
