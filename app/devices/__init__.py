"""devices (设备与告警): the registry of edge devices, their MQTT and HTTP doors, events, commands and alarms.

Public surface: models (Device, DeviceEvent, DeviceCommand, Alarm, AlarmEntry, the label maps);
registry (register_device, rotate_secret, find_device, check_secret); events (ingest, ingest_many, prepare_event,
add_handler, add_online_listener, apply_state, seen); alarms (raise_alarm, clear_alarm, acknowledge, resolve,
assign, shelve, suppress, confirm, reject, add_confirm_listener, timeline); commands (send_command,
fetch_pending, sweep); routing (recipients, card, escalate_due); consumer (Consumer, listen); mqtt (topic,
parse_topic, broker_from_config, publish_after_commit). The rules (rules.init_rules, rules.alarm_extras) are D2's.
"""

from __future__ import annotations

from flask import Flask

from app.community.demo import add_step as add_seed_step
from app.core import periodic
from app.core.features import add_templates


def init_app(app: Flask) -> None:
    """Device models, the doors (HTTP route, MQTT CLI), handlers, jobs, console pages, card buttons, demo seed;
    then the rules."""
    from app.devices import (  # noqa: F401, PLC0415 - routes and pages attach on import  # noqa: PLC0415
        cli,
        commands,
        console,
        events,
        http_door,
        liveness,
        models,
        mqtt,
        rules,
    )
    from app.devices.card import on_card  # noqa: PLC0415
    from app.devices.demo import seed_devices  # noqa: PLC0415
    from app.wechat.card_actions import add_card_action  # noqa: PLC0415

    mqtt.install()
    events.add_handler("command_ack", commands.on_ack)
    events.add_online_listener(liveness.back_online)
    add_card_action("alarm", on_card)
    add_templates(app, __name__)
    periodic.every("app.devices.jobs.sweep_commands", "high", interval=5)
    periodic.every("app.devices.jobs.check_alarms", "high", interval=60)
    periodic.every("app.devices.jobs.mark_offline", "default", interval=60)
    cli.init_app(app)
    add_seed_step(seed_devices)
    rules.init_rules(app)
