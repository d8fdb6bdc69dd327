"""Building parking zones and signed camera reports for the parking tests."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from app.community.models import Building
from app.parking import parking
from app.parking.ingest import sign
from app.parking.models import ParkingZone

EVENTS = "/api/v1/parking/events"


def zone_for(db_session, make_household, number: str, *, fixed: int = 10, temporary: int = 5,
             fixed_occupied: int = 0, temporary_occupied: int = 0, at: datetime | None = None,
             community=None) -> ParkingZone:
    """A zone for building `number` (created with a household so it has a position) with given counts."""
    household = make_household(number, "1", "101", community=community)
    building: Building = household.unit.building
    zone = parking.create_zone(db_session, community_id=building.community_id, code=f"B{number}",
                               name=f"{number}幢", fixed_capacity=fixed, temporary_capacity=temporary,
                               building_id=building.id)
    zone.fixed_occupied, zone.temporary_occupied, zone.last_event_at = fixed_occupied, temporary_occupied, at
    db_session.flush()
    return zone


def signed_post(client, device, report: dict | bytes, *, timestamp: int | None = None, secret: str | None = None,
                key_id: str | None = None):
    """POST a report to the ingestion route, signed the way the camera system signs it."""
    body = report if isinstance(report, bytes) else json.dumps(report, ensure_ascii=False).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {"X-Parking-Device": key_id or device.key_id, "X-Parking-Timestamp": ts,
               "X-Parking-Signature": sign(secret or device.issued_secret, ts, body)}
    return client.post(EVENTS, data=body, headers=headers, content_type="application/json")


def iso(at: datetime) -> str:
    """A naive-UTC time as ISO 8601 with its offset, as cameras send it."""
    return at.replace(tzinfo=UTC).isoformat()
