"""Where people live: community, building, unit, household (a room)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow


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
