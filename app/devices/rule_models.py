"""The device rules' own rows: façade grids, falling-object evidence and its exports, e-bike tags and lift
cases, the state each sensor rule remembers, and each mist curtain's state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import db


class FacadeGrid(db.Model):
    """A building's façade as one camera sees it: 4 image corners, floors × window columns.

    corners: [[x, y], ...] in image pixels, top-left, top-right, bottom-right, bottom-left of the façade
    part the camera covers; its top edge is the top of floor `top_floor`, its bottom edge the bottom of
    floor `top_floor - floors + 1`. column_flats: per window column (left to right) "unit-seat" such
    as "1-01" (room 1201 on floor 12), "" for a stairwell or blank wall.
    """

    __tablename__ = "facade_grid"
    __table_args__ = (UniqueConstraint("camera_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="CASCADE"))
    camera_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    floors: Mapped[int]
    top_floor: Mapped[int]
    columns: Mapped[int]
    corners: Mapped[list] = mapped_column(JSON, default=list)
    column_flats: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))


class Evidence(db.Model):
    """A clip or snapshot of an alarm: where it is, its SHA-256, the camera and times; kept 30 days unless held."""

    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_expires_at_legal_hold", "expires_at", "legal_hold"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm.id", ondelete="SET NULL"), index=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    event_id: Mapped[str] = mapped_column(String(64), default="")  # the camera's event id
    kind: Mapped[str] = mapped_column(String(10))  # clip | snapshot
    ref: Mapped[str] = mapped_column(String(500))  # where the camera / NVR keeps it
    sha256: Mapped[str | None] = mapped_column(String(64))  # None: the camera sent none
    started_at: Mapped[datetime]  # snapshot: the moment; clip: its start
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    legal_hold: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    hold_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    hold_at: Mapped[datetime | None]


class EvidenceExport(db.Model):
    """Who exported an alarm's evidence, when, and what the export held."""

    __tablename__ = "evidence_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    items: Mapped[int] = mapped_column(default=0)
    manifest_sha256: Mapped[str] = mapped_column(String(64))


class EbikeTag(db.Model):
    """An e-bike's tag (the id a lift camera reads) and the resident who registered it."""

    __tablename__ = "ebike_tag"
    __table_args__ = (UniqueConstraint("community_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    tag: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LiftCase(db.Model):
    """One e-bike in a lift: held at detection, released when it leaves or by the fail-safe."""

    __tablename__ = "lift_case"
    __table_args__ = (Index("ix_lift_case_device_id_released_at", "device_id", "released_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm.id", ondelete="SET NULL"))
    tag: Mapped[str | None] = mapped_column(String(64), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="SET NULL"))
    detected_at: Mapped[datetime]
    release_due_at: Mapped[datetime]  # the fail-safe: released by then whatever answers
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(10))  # left | failsafe
    notified: Mapped[bool] = mapped_column(default=False)


class SensorState(db.Model):
    """What a sensor rule remembers of one device and measure (pm25, temperature, smoke, leak)."""

    __tablename__ = "sensor_state"
    __table_args__ = (UniqueConstraint("device_id", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=False)  # the threshold condition holds (alarm raised)
    changed_at: Mapped[datetime | None]
    pending_since: Mapped[datetime | None]  # crossed, waiting for the duration condition
    last_value: Mapped[float | None]
    same_count: Mapped[int] = mapped_column(default=0)
    last_reading_at: Mapped[datetime | None]
    silent: Mapped[bool] = mapped_column(default=False)  # a no_data alarm is raised
    stuck: Mapped[bool] = mapped_column(default=False)  # a stuck_value alarm is raised
    samples: Mapped[list] = mapped_column(JSON, default=list)  # [[iso time, value], ...] in the rolling window
    extra: Mapped[dict] = mapped_column(JSON, default=dict)  # latest wind, rain, temperature, tank level


class MistState(db.Model):
    """One mist curtain's state: on or off since when, and why (the last decision)."""

    __tablename__ = "mist_state"

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), primary_key=True)
    active: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[datetime | None]
    pending_since: Mapped[datetime | None]
    average: Mapped[float | None]
    blocked_by: Mapped[str | None] = mapped_column(String(20))  # the interlock holding it off
    command_id: Mapped[int | None] = mapped_column(ForeignKey("device_command.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(200), default="")
