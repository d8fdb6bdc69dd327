"""Commands to devices (hold_doors, play_warning, mist_on, ...): published on MQTT the moment the transaction
commits, or left for an HTTP device to fetch; settled by the device's command_ack; a sweep retries and times
out what was not acknowledged. Every command is logged with its attempts, acknowledgement and outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devices import mqtt
from app.devices.alarms import add_entry
from app.devices.models import Alarm, Device, DeviceCommand, DeviceEvent
from app.devices.registry import transport

MAX_FETCH = 20


def _message(command: DeviceCommand, now: datetime) -> dict:
    return {"id": command.id, "name": command.name, "params": command.params or {}, "attempt": command.attempts,
            "at": now.replace(tzinfo=UTC).isoformat()}


def _note(session: Session, command: DeviceCommand, text: str, now: datetime) -> None:
    if command.alarm_id is not None:
        alarm = session.get(Alarm, command.alarm_id)
        if alarm is not None:
            add_entry(session, alarm, "command", f"指令 {command.name}：{text}", now=now)


def _send(session: Session, device: Device, command: DeviceCommand, now: datetime) -> None:
    command.attempts += 1
    command.status, command.sent_at = "sent", now
    command.deadline_at = now + timedelta(seconds=command.timeout_s)
    mqtt.publish_after_commit(session, device.community_id, device.code, "cmd", _message(command, now))


def send_command(session: Session, device: Device, name: str, params: dict | None = None, *, now: datetime,
                 timeout_s: int = 10, retries: int = 2, reason: str = "", alarm_id: int | None = None) -> DeviceCommand:
    """Send a command: on MQTT at commit (no queue), or pending for an HTTP device to fetch."""
    command = DeviceCommand(device_id=device.id, name=name[:40], params=dict(params or {}), status="pending",
                            attempts=0, created_at=now, reason=(reason or "")[:200], alarm_id=alarm_id,
                            timeout_s=max(int(timeout_s), 1), max_attempts=max(int(retries), 0) + 1)
    session.add(command)
    session.flush()
    if transport(device) == "mqtt":
        _send(session, device, command, now)
    else:  # fetched by the device: the whole budget of tries to fetch and acknowledge it
        command.deadline_at = now + timedelta(seconds=command.timeout_s * command.max_attempts)
    _note(session, command, "已发出" if command.status == "sent" else "等待设备取走", now)
    return command


def fetch_pending(session: Session, device: Device, now: datetime) -> list[dict]:
    """An HTTP device's commands waiting for it (pending, or sent but not acknowledged); marks them sent."""
    rows = session.scalars(select(DeviceCommand).where(DeviceCommand.device_id == device.id,
                                                       DeviceCommand.status.in_(("pending", "sent")))
                           .order_by(DeviceCommand.id).limit(MAX_FETCH)).all()
    out = []
    for command in rows:
        command.attempts += 1
        command.status, command.sent_at = "sent", now
        command.deadline_at = max(command.deadline_at or now, now + timedelta(seconds=command.timeout_s))
        out.append(_message(command, now))
    return out


def on_ack(session: Session, device: Device, event: DeviceEvent, now: datetime) -> None:
    """A command_ack event {command_id, ok?, error?}: the command is acknowledged (or failed)."""
    payload = event.payload or {}
    command_id = payload.get("command_id")
    if not isinstance(command_id, int) or isinstance(command_id, bool):
        return
    command = session.get(DeviceCommand, command_id)
    if command is None or command.device_id != device.id or command.status in ("acked", "failed"):
        return
    if payload.get("ok", True) is False:
        command.status = "failed"
        command.reason = f"{command.reason} 设备报错：{payload.get('error') or '未知'}"[:200].strip()
        _note(session, command, f"设备报错（{payload.get('error') or '未知'}）", now)
        return
    command.status, command.acked_at = "acked", now
    took = int((now - (command.sent_at or command.created_at)).total_seconds() * 1000)
    _note(session, command, f"设备已确认（{took} 毫秒，第 {command.attempts} 次发送）", now)


def sweep(session: Session, now: datetime) -> dict:
    """Send again what was not acknowledged in time, and time out what used up its tries."""
    due = session.scalars(select(DeviceCommand).where(DeviceCommand.status.in_(("pending", "sent")),
                                                      DeviceCommand.deadline_at <= now)
                          .order_by(DeviceCommand.id).limit(500)).all()
    counts = {"retried": 0, "timed_out": 0}
    for command in due:
        device = session.get(Device, command.device_id)
        if device is not None and transport(device) == "mqtt" and command.attempts < command.max_attempts:
            _send(session, device, command, now)
            counts["retried"] += 1
            continue
        command.status = "timed_out"
        _note(session, command, f"超时未确认（共发送 {command.attempts} 次）", now)
        counts["timed_out"] += 1
    return counts


def history(session: Session, device_id: int, limit: int = 20) -> list[DeviceCommand]:
    """A device's newest commands."""
    return list(session.scalars(select(DeviceCommand).where(DeviceCommand.device_id == device_id)
                                .order_by(DeviceCommand.id.desc()).limit(limit)))
