"""Where people live and who they are: community, building, unit, household (a room), residents,
staff, and the tags residents carry (system: kept current; interest: chosen; manual: staff); and the
staff's login counters for when Redis is down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import db


class Community(db.Model):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="standard")  # old_neighbourhood | youth_complex | standard
    city: Mapped[str] = mapped_column(String(50), default="杭州")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    buildings: Mapped[list[Building]] = relationship(back_populates="community", order_by="Building.id")


class Building(db.Model):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))  # "30", as residents say 30幢
    position: Mapped[int] = mapped_column(default=0)  # walking order, for "nearest buildings"

    community: Mapped[Community] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="Unit.id")


class Unit(db.Model):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))

    building: Mapped[Building] = relationship(back_populates="units")


class Household(db.Model):
    """One room (户): the thing residents bind to."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("unit_id", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    room: Mapped[str] = mapped_column(String(20))

    unit: Mapped[Unit] = relationship()

    @property
    def label(self) -> str:
        """The address as residents write it: 30幢2单元1201."""
        return f"{self.unit.building.number}幢{self.unit.number}单元{self.room}"


resident_tag = Table(
    "resident_tag",
    db.metadata,
    Column("resident_id", ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # "building:30", "age:60+", "interest:chess"
    kind: Mapped[str] = mapped_column(String(10), default="manual")  # system | interest | manual
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def shown_to_resident(self) -> bool:
        """Whether the resident who carries the tag may see it: the interests they chose and where they
        live. Staff's labels (health colours, 独居老人, age bands, roles) are internal."""
        return self.kind == "interest" or self.name.partition(":")[0] in RESIDENT_VISIBLE_PREFIXES


RESIDENT_VISIBLE_PREFIXES = ("building", "unit")
RESIDENT_ROLES = ("owner", "tenant", "family")
STAFF_ROLES = ("admin", "property", "repair_worker", "doctor", "committee", "steward", "grid_worker")


class Resident(db.Model):
    __tablename__ = "resident"
    __table_args__ = (UniqueConstraint("community_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    birth_year: Mapped[int | None]
    role: Mapped[str] = mapped_column(String(10), default="owner")
    oa_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    wxa_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | moved_out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    household: Mapped[Household | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary="resident_tag")

    @property
    def masked_phone(self) -> str:
        """The phone with its middle hidden, for anything shown to others."""
        return self.phone[:3] + "****" + self.phone[-4:] if len(self.phone) >= 7 else "****"


class Staff(db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    building_scope: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty = whole community
    wecom_userid: Mapped[str | None] = mapped_column(String(64))
    # bumped at logout and at a password change: a console cookie carrying an older one is refused
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def covers_building(self, number: str) -> bool:
        """Whether this staff member's scope includes a building."""
        return not self.building_scope or number in self.building_scope


class LoginThrottle(db.Model):
    """Console login attempts in a window, counted here only while Redis (where they normally are) is down.

    One row per counter: a username at an address, or an address. The key is a hash, never the username."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    window_ends_at: Mapped[datetime]


class Place(db.Model):
    """A named place of the community that residents mention (东门, 中心花园, 北门停车场), with the other
    names they use for it; kept by staff, so a report's "where" can be checked against real places."""

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(20), default="other")  # gate | garden | parking | facility | other
    building: Mapped[str | None] = mapped_column(String(20))  # the building it belongs to, if one
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
