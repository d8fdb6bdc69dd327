"""Parking: zones with their live counts, camera devices, occupancy events, the time series,
vehicles registered to households (claims to a plate) and the record of disputes over a plate settled by
staff, and car notices sent to a plate's owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Building, Household, Resident
from app.core.clock import utcnow
from app.core.db import db

SPACE_KINDS = ("fixed", "temporary")
NOTICE_KINDS = ("move", "lights", "window", "text")
NOTICE_STATUSES = ("sent", "handled", "unmatched", "closed")  # unmatched = unknown or disputed plate, for staff


class ParkingZone(db.Model):
    """A building's spaces or a shared lot, with fixed and temporary capacity and the current occupancy."""

    __tablename__ = "parking_zone"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"), index=True)  # None = shared lot
    code: Mapped[str] = mapped_column(String(40))  # what the camera system calls it: "B30", "north-lot"
    name: Mapped[str] = mapped_column(String(60))  # as shown: 30幢, 北门停车场
    fixed_capacity: Mapped[int] = mapped_column(default=0)
    temporary_capacity: Mapped[int] = mapped_column(default=0)
    fixed_occupied: Mapped[int] = mapped_column(default=0)
    temporary_occupied: Mapped[int] = mapped_column(default=0)
    last_event_at: Mapped[datetime | None]  # naive UTC, the camera's time of the newest applied event
    updated_at: Mapped[datetime | None]  # naive UTC, when we applied it
    active: Mapped[bool] = mapped_column(default=True)

    building: Mapped[Building | None] = relationship()

    @property
    def fixed_free(self) -> int:
        """Free fixed spaces."""
        return max(self.fixed_capacity - self.fixed_occupied, 0)

    @property
    def temporary_free(self) -> int:
        """Free temporary spaces."""
        return max(self.temporary_capacity - self.temporary_occupied, 0)


class ParkingSpace(db.Model):
    """One space, for camera systems that report per-space states rather than zone counts."""

    __tablename__ = "parking_space"
    __table_args__ = (UniqueConstraint("zone_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("parking_zone.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # fixed | temporary
    occupied: Mapped[bool] = mapped_column(default=False)
    last_event_at: Mapped[datetime | None]


class ParkingDevice(db.Model):
    """A camera system (or its gateway) allowed to report occupancy, with its own signing key."""

    __tablename__ = "parking_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)  # sent in X-Parking-Device
    secret: Mapped[str] = mapped_column(String(255))  # the HMAC key, sealed (app.core.sealed)
    name: Mapped[str] = mapped_column(String(60), default="")
    zone_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # zones it may report; empty = all
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OccupancyEvent(db.Model):
    """One report from a device, kept once per event id; applied=False when a newer state was already there."""

    __tablename__ = "occupancy_event"
    __table_args__ = (UniqueConstraint("device_id", "event_id"),
                      Index("ix_occupancy_event_zone_id_occurred_at", "zone_id", "occurred_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("parking_device.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    zone_id: Mapped[int] = mapped_column(ForeignKey("parking_zone.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime]  # naive UTC
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied: Mapped[bool] = mapped_column(default=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)


class ZoneSample(db.Model):
    """The occupancy of a zone in one 5-minute bucket (the last value reported in it): the history."""

    __tablename__ = "zone_sample"
    __table_args__ = (UniqueConstraint("zone_id", "bucket"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("parking_zone.id", ondelete="CASCADE"), index=True)
    bucket: Mapped[datetime]  # naive UTC, start of the 5 minutes
    fixed_occupied: Mapped[int] = mapped_column(default=0)
    temporary_occupied: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime]  # the event time of the value kept


class Vehicle(db.Model):
    """A household's claim to a plate: a car a resident registered to their household. Any household may claim
    any plate (registering never shows whether another did); a plate claimed by two or more households is
    disputed until staff keep one claim (disputes.resolve)."""

    __tablename__ = "vehicle"
    __table_args__ = (UniqueConstraint("community_id", "plate", "household_id"),)  # also finds a plate's claims

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="SET NULL"))
    plate: Mapped[str] = mapped_column(String(12))  # 浙A12345, upper case, no spaces
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    household: Mapped[Household] = relationship()
    resident: Mapped[Resident | None] = relationship()


class CarNotice(db.Model):
    """A message to the owner of a plate; neither side ever sees who the other is."""

    __tablename__ = "car_notice"
    __table_args__ = (Index("ix_car_notice_community_id_status", "community_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    plate: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # move | lights | window | text
    text: Mapped[str] = mapped_column(Text, default="")
    sender_resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="SET NULL"))
    sender_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id", ondelete="SET NULL"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="sent")
    source: Mapped[str] = mapped_column(String(10), default="oa")  # oa | wxa | console
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    handled_at: Mapped[datetime | None]
    handled_note: Mapped[str | None] = mapped_column(String(200))


class DisputeResolution(db.Model):
    """Staff settled a disputed plate: the claim kept, the claims removed (as they were), who did it and when."""

    __tablename__ = "dispute_resolution"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    plate: Mapped[str] = mapped_column(String(12), index=True)
    kept_household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    staff_name: Mapped[str] = mapped_column(String(50), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    # every claim as it was: [{"household_id", "household", "resident_id", "resident", "claimed_at", "kept"}]
    claims: Mapped[list[dict]] = mapped_column(JSON, default=list)
    resolved_at: Mapped[datetime] = mapped_column(default=utcnow)
