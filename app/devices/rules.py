"""The device rules: what each kind of event means. init_rules wires the handlers (falling objects, e-bikes in
lifts, air quality and the mist curtain, corridor sensors), the confirm listener, the sweeps and the evidence
cleanup, the façade console page, the simulator command and the demo day; alarm_extras feeds the alarm page.

Public surface: init_rules, alarm_extras, and the jobs sweep_holds, sweep_sensors, cleanup_evidence,
feed_demo (development only).
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.demo import add_step as add_seed_step
from app.community.models import Staff
from app.core import periodic
from app.core.clock import utcnow
from app.devices import air, evidence, falling, lift, sensors
from app.devices.models import Alarm
from app.devices.rule_models import LiftCase, MistState
from workers.context import job

HANDLERS = {
    "falling_object": falling.on_falling_object,
    "ebike_detected": lift.on_ebike_detected,
    "ebike_left": lift.on_ebike_left,
    "air_reading": air.on_air_reading,
    "temperature": sensors.on_corridor_event,
    "smoke": sensors.on_corridor_event,
    "water_leak": sensors.on_corridor_event,
}


def init_rules(app: Flask) -> None:
    """Register the rules' event handlers, confirm listener, periodic jobs, pages, CLI command and demo day."""
    from app.devices import events, facade_console, rule_models, simulate  # noqa: F401, PLC0415
    from app.devices.alarms import add_confirm_listener  # noqa: PLC0415

    for event_type, fn in HANDLERS.items():
        events.add_handler(event_type, fn)
    add_confirm_listener("falling_object", falling.notify_flats_above)
    periodic.every("app.devices.rules.sweep_holds", "high", interval=10)  # fail-safe ≤ 45 + 10 s
    periodic.every("app.devices.rules.sweep_sensors", "default", interval=60)
    periodic.every("app.devices.rules.cleanup_evidence", "low", cron="40 3 * * *")
    if app.config.get("LINLI_ENV") == "development" and not app.config.get("TESTING"):
        periodic.every("app.devices.rules.feed_demo", "low", interval=60)  # make run's live sensors
    simulate.init_cli(app)
    add_seed_step(simulate.seed_demo_day)


@job
def sweep_holds(session: Session) -> int:
    """The lifts' fail-safe: release every hold whose time is up."""
    return lift.sweep_holds(session, utcnow())


@job
def sweep_sensors(session: Session) -> dict:
    """No-data faults for silent sensors, and every mist curtain decided again."""
    now = utcnow()
    return {"silent": sensors.sweep_silent(session, now), "switched": air.sweep_curtains(session, now)}


@job
def cleanup_evidence(session: Session) -> int:
    """Delete evidence past its 30 days unless under legal hold."""
    return evidence.cleanup(session, utcnow())


@job
def feed_demo(session: Session) -> int:
    """Development only: the demo's sensors report the current minute of the simulated day."""
    from app.devices import simulate  # noqa: PLC0415

    return simulate.feed_live(session, utcnow())


def alarm_extras(session: Session, alarm: Alarm) -> dict:
    """What the alarm's page shows beside the timeline: evidence and candidates, lift cases, curtain states."""
    extras: dict = {"kind": alarm.type}
    if alarm.type == "falling_object":
        rows = evidence.for_alarm(session, alarm.id)
        details = alarm.details or {}
        exports = evidence.exports(session, alarm.id)
        names = {sid: name for sid, name in session.execute(select(Staff.id, Staff.name).where(
            Staff.id.in_([e.staff_id for e in exports if e.staff_id])))} if exports else {}
        extras.update(evidence=rows, held=bool(rows) and all(r.legal_hold for r in rows), exports=exports,
                      exporters=names, candidates=details.get("candidates") or [],
                      floor=details.get("floor"), column=details.get("column"),
                      confidence=details.get("confidence"), calibrated=details.get("calibrated", False),
                      notice_residents=details.get("notice_residents"), confirmed=alarm.confirmed,
                      incidents=details.get("incidents") or [],
                      notice_preview=len(falling.flats_above(session, alarm)) if alarm.confirmed is None else None)
    elif alarm.type == "ebike_in_lift":
        extras["cases"] = list(session.scalars(select(LiftCase).where(LiftCase.alarm_id == alarm.id)
                                               .order_by(LiftCase.id.desc()).limit(10)))
    if alarm.type == "air_quality" and alarm.device_id is not None:
        sensor = alarm.device
        extras["interlocks"] = air.INTERLOCK_LABELS
        extras["curtains"] = [(c, session.get(MistState, c.id)) for c in air.followers(session, sensor)] \
            if sensor is not None else []
    return extras
