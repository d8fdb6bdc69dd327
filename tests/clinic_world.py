"""A small clinic for tests: every contract service, a room, a doctor and slots placed where a test wants them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.clinic.clinic import SERVICE_LABELS
from app.clinic.models import ClinicPlace, ClinicService, Provider, Slot
from app.community.models import Staff


@dataclass
class Clinic:
    community_id: int
    room: ClinicPlace
    home: ClinicPlace
    provider: Provider
    services: dict[str, ClinicService] = field(default_factory=dict)

    def slot(self, session, code: str, starts_at: datetime, *, minutes: int = 30, capacity: int = 1,
             reserved: int = 0, booked: int = 0, provider: Provider | None = None) -> Slot:
        """A slot of a service at starts_at (naive UTC)."""
        from datetime import timedelta

        place = self.home if code == "home_visit" else self.room
        slot = Slot(community_id=self.community_id, service_id=self.services[code].id,
                    provider_id=(provider or self.provider).id, place_id=place.id, starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=minutes), capacity=capacity, booked=booked,
                    reserved=reserved, status="open")
        session.add(slot)
        session.flush()
        return slot


def build_clinic(session, community_id: int, *, doctor: Staff | None = None, min_notice: int = 60,
                 horizon_days: int = 14) -> Clinic:
    """Every contract service, a clinic room, home visits and one provider (the doctor, if given)."""
    room = ClinicPlace(community_id=community_id, kind="room", name="卫生站1诊室")
    home = ClinicPlace(community_id=community_id, kind="home", name="上门")
    provider = Provider(community_id=community_id, staff_id=doctor.id if doctor else None,
                        name=doctor.name if doctor else "陈文医生", specialty="全科")
    session.add_all([room, home, provider])
    services = {}
    for code, label in SERVICE_LABELS.items():
        services[code] = ClinicService(community_id=community_id, code=code, name=label,
                                       place_kind="home" if code == "home_visit" else "room",
                                       min_notice_minutes=min_notice, horizon_days=horizon_days,
                                       max_active_per_resident=2)
        session.add(services[code])
    session.flush()
    return Clinic(community_id, room, home, provider, services)
