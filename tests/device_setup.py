"""Helpers for the device tests: a community with buildings and staff, registered devices, signed HTTP posts."""

from __future__ import annotations

import json
import time

from app.community.models import Building, Community
from app.core.clock import utcnow
from app.devices.registry import mqtt_username, register_device
from app.parking.ingest import sign

SEAL_KEY = "test-secret-key"


def building(db_session, community: Community, number: str) -> Building:
    """The community's building with this number (created if missing)."""
    found = db_session.query(Building).filter_by(community_id=community.id, number=number).one_or_none()
    if found is None:
        found = Building(community_id=community.id, number=number, position=int(number) if number.isdigit() else 0)
        db_session.add(found)
        db_session.flush()
    return found


def add_device(app, db_session, community: Community, code: str = "cam-1", kind: str = "camera", *,
               building_number: str | None = None, http: bool = False, **extra):
    """Register a device (with the app's SECRET_KEY); returns (device, secret)."""
    if building_number:
        building(db_session, community, building_number)
    return register_device(db_session, community_id=community.id, code=code, kind=kind, now=utcnow(),
                          seal_key=app.config["SECRET_KEY"], building=building_number,
                          settings={"transport": "http"} if http else {}, **extra)


def signed_post(client, device, secret: str, path: str, body, *, timestamp: int | None = None,
                signature: str | None = None):
    """POST a body to the device door signed as the device would."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {"X-Device": mqtt_username(device), "X-Device-Timestamp": ts,
               "X-Device-Signature": signature or sign(secret, ts, raw)}
    return client.post(path, data=raw, headers=headers, content_type="application/json")
