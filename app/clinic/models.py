"""The community clinic: services, providers, places, weekly schedules, slots, bookings, the waitlist,
family-doctor teams and the health record (colour, kiosk measurements, who read it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.community.models import Household, Resident, Staff
from app.core.clock import utcnow
from app.core.db import db

# The NLU contract's `service` ids (shared/nlu-contract.md); one ClinicService row per id and community.
SERVICE_CODES = ("blood_pressure", "blood_glucose", "ecg", "ct", "gastroscopy", "colonoscopy", "checkup",
                 "home_visit", "video_consult", "general", "tcm", "vaccination")
PLACE_KINDS = ("room", "home", "video")  # clinic room, home visit, video consultation
BOOKING_STATUSES = ("booked", "checked_in", "completed", "cancelled", "no_show")
ACTIVE_STATUSES = ("booked", "checked_in")  # a booking that holds its seat
WAITLIST_STATUSES = ("waiting", "notified", "booked", "cancelled")
COLOURS = ("red", "yellow", "green")  # red: close watch; yellow: stronger follow-up; green: healthy
MEASUREMENT_KINDS = ("blood_pressure", "blood_glucose", "bmi", "uric_acid", "cholesterol")
_ACTIVE_SQL = "status IN ('booked', 'checked_in')"


class ClinicService(db.Model):
    """Something residents book: 测血压, 心电图, 家庭医生上门 ..., with its booking rules."""

    __tablename__ = "clinic_service"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))  # a contract service id
    name: Mapped[str] = mapped_column(String(50))
    place_kind: Mapped[str] = mapped_column(String(10), default="room")
    duration_minutes: Mapped[int] = mapped_column(default=15)
    min_notice_minutes: Mapped[int] = mapped_column(default=60)  # no booking later than this before the start
    horizon_days: Mapped[int] = mapped_column(default=14)  # how far ahead one may book
    max_active_per_resident: Mapped[int] = mapped_column(default=2)  # booking limit per resident and service
    active: Mapped[bool] = mapped_column(default=True)


class ClinicPlace(db.Model):
    """Where a slot happens: a clinic room, the resident's home, or a video call."""

    __tablename__ = "clinic_place"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # room | home | video
    name: Mapped[str] = mapped_column(String(50))


class FamilyDoctorTeam(db.Model):
    """A family-doctor team (家庭医生团队): its doctors serve the households signed to it."""

    __tablename__ = "family_doctor_team"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[FamilyDoctorMember]] = relationship(cascade="all, delete-orphan")


class FamilyDoctorMember(db.Model):
    __tablename__ = "family_doctor_member"
    __table_args__ = (UniqueConstraint("team_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("family_doctor_team.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)

    staff: Mapped[Staff] = relationship()


class FamilyDoctorSigning(db.Model):
    """A household signed to a family-doctor team (one team per household)."""

    __tablename__ = "family_doctor_signing"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("family_doctor_team.id"), index=True)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    household: Mapped[Household] = relationship()
    team: Mapped[FamilyDoctorTeam] = relationship()


class Provider(db.Model):
    """Who gives a service: a doctor (a Staff member with role doctor) or an exam room's team."""

    __tablename__ = "clinic_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    specialty: Mapped[str] = mapped_column(String(50), default="全科")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("family_doctor_team.id"))
    active: Mapped[bool] = mapped_column(default=True)

    staff: Mapped[Staff | None] = relationship()


class ScheduleTemplate(db.Model):
    """One weekly session: every <weekday> from start to end, slots of slot_minutes with capacity seats."""

    __tablename__ = "clinic_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("clinic_provider.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("clinic_service.id"), index=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("clinic_place.id"))
    weekday: Mapped[int]  # 0 = Monday, as datetime.weekday()
    start: Mapped[str] = mapped_column(String(5))  # "08:30", Asia/Shanghai
    end: Mapped[str] = mapped_column(String(5))
    slot_minutes: Mapped[int] = mapped_column(default=30)
    capacity: Mapped[int] = mapped_column(default=1)
    reserved: Mapped[int] = mapped_column(default=0)  # seats per slot kept for red-colour residents
    active: Mapped[bool] = mapped_column(default=True)


class Slot(db.Model):
    """A bookable time: `booked` never exceeds `capacity` (guarded by a conditional UPDATE and a CHECK)."""

    __tablename__ = "clinic_slot"
    __table_args__ = (
        UniqueConstraint("provider_id", "service_id", "starts_at"),
        Index("ix_clinic_slot_service_start", "service_id", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("clinic_service.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("clinic_provider.id"))
    place_id: Mapped[int] = mapped_column(ForeignKey("clinic_place.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_schedule.id"))
    starts_at: Mapped[datetime]  # naive UTC
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(default=1)
    booked: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed

    service: Mapped[ClinicService] = relationship()
    provider: Mapped[Provider] = relationship()
    place: Mapped[ClinicPlace] = relationship()

    @property
    def free(self) -> int:
        """Seats anyone may still take."""
        return max(0, self.capacity - self.reserved - self.booked)


class Booking(db.Model):
    """A resident's seat in a slot; at most one active booking per slot and resident (partial unique index)."""

    __tablename__ = "clinic_booking"
    __table_args__ = (
        Index("uq_clinic_booking_active", "slot_id", "resident_id", unique=True,
              postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
        Index("ix_clinic_booking_resident_status", "resident_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # YY2611250007, set after insert
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("clinic_slot.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("clinic_service.id"))
    status: Mapped[str] = mapped_column(String(12), default="booked")
    source: Mapped[str] = mapped_column(String(10), default="oa")  # oa | wxa | console
    note: Mapped[str] = mapped_column(String(300), default="")
    starts_at: Mapped[datetime]  # copied from the slot for reminders and the no-show sweep
    ends_at: Mapped[datetime]
    rescheduled_from_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_booking.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    no_show_at: Mapped[datetime | None]
    reminded_day_at: Mapped[datetime | None]
    reminded_hour_at: Mapped[datetime | None]

    slot: Mapped[Slot] = relationship()
    resident: Mapped[Resident] = relationship()
    service: Mapped[ClinicService] = relationship()

    @property
    def is_active(self) -> bool:
        """Whether it still holds its seat."""
        return self.status in ACTIVE_STATUSES


class WaitlistEntry(db.Model):
    """A resident waiting for a seat in a full slot; told when one frees."""

    __tablename__ = "clinic_waitlist"
    __table_args__ = (UniqueConstraint("slot_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("clinic_slot.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]

    slot: Mapped[Slot] = relationship()


class HealthRecord(db.Model):
    """A resident's health colour: set from kiosk thresholds, or by a doctor with a note (which then holds)."""

    __tablename__ = "health_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), unique=True)
    colour: Mapped[str] = mapped_column(String(10), default="green")
    source: Mapped[str] = mapped_column(String(10), default="auto")  # auto | doctor
    note: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Measurement(db.Model):
    """One reading (kiosk, doctor or the resident): values by name, e.g. {"systolic": 150, "diastolic": 95}."""

    __tablename__ = "health_measurement"
    __table_args__ = (Index("ix_health_measurement_resident_at", "resident_id", "measured_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    kind: Mapped[str] = mapped_column(String(20))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    colour: Mapped[str] = mapped_column(String(10))  # what the thresholds say about this reading
    source: Mapped[str] = mapped_column(String(10), default="kiosk")  # kiosk | doctor | self
    device_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_device.id"))
    measured_at: Mapped[datetime] = mapped_column(default=utcnow)


class KioskDevice(db.Model):
    """A self-service measuring kiosk, authenticated by the hash of its token."""

    __tablename__ = "clinic_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class HealthAccessLog(db.Model):
    """Every staff read of health data, colour changes, and every refused attempt, with who, from where,
    in which console session and for what.

    A read of one resident's file names the resident; a read of an aggregate (how many residents a
    campaign audience naming health:red selects) has no resident and says what was counted in `detail`.
    """

    __tablename__ = "health_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # list | view | count | refused | colour_override
    # resident_file | list | colour_change | booking | campaign_preview | campaign_count | campaign_draft | ...
    purpose: Mapped[str] = mapped_column(String(30), default="", server_default="", index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    session_ref: Mapped[str | None] = mapped_column(String(64))  # a hash naming the console sign-in
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[Staff] = relationship()
    resident: Mapped[Resident | None] = relationship()
