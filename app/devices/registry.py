"""The device registry: registering a device, its secret (stored only as a hash, rotatable) and finding it.

A device's secret is derived from the service's SECRET_KEY and a random salt kept in secret_hash, so the
database alone reveals no secret (as parking's sealed keys), the HTTP door can check an HMAC with it, and
secret_hash is already in mosquitto's PBKDF2-SHA512 form ($7$): `flask devices acl` writes it out as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.community.models import Building
from app.core.errors import ValidationFailed
from app.devices.models import DEVICE_KINDS, Device

CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # safe in an MQTT topic level and a file name
PBKDF2_ROUNDS = 101  # what mosquitto_passwd writes


def _derive(device: Device, salt: str, seal_key: str) -> str:
    message = f"linli-device:{device.community_id}:{device.code}:{salt}".encode()
    return base64.urlsafe_b64encode(hmac.new(seal_key.encode(), message, hashlib.sha256).digest()).decode()[:43]


def _hash(secret: str, salt: bytes, rounds: int = PBKDF2_ROUNDS) -> str:
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, rounds, 64)
    return f"$7${rounds}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _salt(device: Device) -> str | None:
    parts = (device.secret_hash or "").split("$")
    return parts[3] if len(parts) == 5 and parts[1] == "7" else None


def rotate_secret(device: Device, *, seal_key: str, now: datetime) -> str:
    """Give the device a new secret (the old one stops working); returns it, to hand to the installer once."""
    salt = secrets.token_bytes(12)
    secret = _derive(device, base64.b64encode(salt).decode(), seal_key)
    device.secret_hash, device.secret_rotated_at = _hash(secret, salt), now
    return secret


def device_secret(device: Device, *, seal_key: str) -> str | None:
    """The device's current secret (for checking its HMAC), or None if it has none or SECRET_KEY changed."""
    salt = _salt(device)
    if salt is None:
        return None
    secret = _derive(device, salt, seal_key)
    return secret if check_secret(device, secret) else None


def check_secret(device: Device, secret: str) -> bool:
    """Whether a presented secret is the device's (as mosquitto checks a password)."""
    parts = (device.secret_hash or "").split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    expected = _hash(secret, base64.b64decode(parts[3]), int(parts[2]))
    return hmac.compare_digest(expected, device.secret_hash)


def mqtt_username(device: Device) -> str:
    """The device's MQTT user name: <community id>/<code>."""
    return f"{device.community_id}/{device.code}"


def register_device(session: Session, *, community_id: int, code: str, kind: str, now: datetime, seal_key: str,
                    name: str = "", building: str | None = None, floor: int | None = None, location: str = "",
                    household_id: int | None = None, settings: dict | None = None) -> tuple[Device, str]:
    """Add a device to a community's registry (building by its number); returns it and its first secret."""
    code = (code or "").strip()
    if not CODE.match(code):
        raise ValidationFailed("设备编号只能用字母、数字、点、横线和下划线（最长 64 位）", code="invalid_device_code")
    if kind not in DEVICE_KINDS:
        raise ValidationFailed(f"未知的设备类型：{kind}", code="invalid_device_kind")
    if find_device(session, community_id, code) is not None:
        raise ValidationFailed(f"设备编号已存在：{code}", code="duplicate_device")
    building_id = None
    if building:
        building_id = session.scalar(select(Building.id).where(Building.community_id == community_id,
                                                               Building.number == str(building)))
        if building_id is None:
            raise ValidationFailed(f"没有这栋楼：{building}", code="unknown_building")
    device = Device(community_id=community_id, code=code, kind=kind, name=name or code, building_id=building_id,
                    floor=floor, location=location[:100], household_id=household_id, settings=dict(settings or {}),
                    created_at=now, online=False, active=True)
    session.add(device)
    session.flush()
    return device, rotate_secret(device, seal_key=seal_key, now=now)


def find_device(session: Session, community_id: int, code: str) -> Device | None:
    """The community's device with this code."""
    return session.scalar(select(Device).where(Device.community_id == community_id, Device.code == code[:64]))


def transport(device: Device) -> str:
    """How the device is reached: "mqtt" (the default) or "http" (it fetches its commands)."""
    return "http" if (device.settings or {}).get("transport") == "http" else "mqtt"
