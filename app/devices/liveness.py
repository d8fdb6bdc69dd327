"""Device liveness: a device silent for too long goes offline and raises a device_offline fault (for the
repair staff, not about a person); heard from again, it is online and the fault clears."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devices.alarms import clear_alarm, raise_alarm
from app.devices.models import Device

DEFAULT_SILENCE = 600  # seconds; a device may set its own in settings["offline_after_s"]


def mark_offline(session: Session, now: datetime, *, silence_s: int = DEFAULT_SILENCE) -> list[int]:
    """Mark silent devices offline and raise their device_offline alarm; returns their ids."""
    gone = []
    for device in session.scalars(select(Device).where(Device.active.is_(True), Device.online.is_(True),
                                                       Device.last_seen_at.is_not(None))):
        limit = int((device.settings or {}).get("offline_after_s") or silence_s)
        if device.last_seen_at > now - timedelta(seconds=limit):
            continue
        device.online = False
        raise_alarm(session, community_id=device.community_id, type="device_offline", severity="minor", now=now,
                    device_id=device.id, details={"last_seen_at": device.last_seen_at.isoformat() + "Z",
                                                  "silence_s": limit})
        gone.append(device.id)
    return gone


def back_online(session: Session, device: Device, now: datetime) -> None:
    """An offline device spoke again: its device_offline alarm clears."""
    clear_alarm(session, device_id=device.id, type="device_offline", now=now, text="设备已恢复在线")
