"""The clinic's demo seed step: catalogue, schedules, 3 weeks of slots, teams, colours; twice = nothing new."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.clinic import clinic
from app.clinic.demo import seed_clinic
from app.clinic.models import (
    SERVICE_CODES,
    ClinicService,
    FamilyDoctorSigning,
    HealthRecord,
    Provider,
    ScheduleTemplate,
    Slot,
)
from app.clinic.slots import open_slots
from app.community.demo import DEMO_COMMUNITY, seed_demo
from app.community.models import Community, Staff
from app.core.clock import utcnow


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_seed_builds_a_bookable_clinic_and_is_idempotent(app, db_session):
    seed_demo(db_session)
    db_session.commit()
    community = db_session.scalar(select(Community).where(Community.name == DEMO_COMMUNITY))
    codes = set(db_session.scalars(select(ClinicService.code).where(ClinicService.community_id == community.id)))
    assert codes == set(SERVICE_CODES)
    assert _count(db_session, ScheduleTemplate) > 20 and _count(db_session, Provider) == 7
    last = db_session.scalar(select(func.max(Slot.starts_at)))
    assert last > utcnow() + timedelta(days=18)
    assert _count(db_session, FamilyDoctorSigning) > 50
    colours = set(db_session.scalars(select(HealthRecord.colour)))
    assert colours == {"red", "yellow", "green"}
    doctor = db_session.scalar(select(Staff).where(Staff.username == "doctor1"))
    mine = db_session.execute(clinic.residents_in_scope(db_session, doctor)).all()
    assert mine and all(r.household.unit.building.number in doctor.building_scope for r, _ in mine)
    someone = mine[0][0]
    bp = db_session.scalar(select(ClinicService).where(ClinicService.community_id == community.id,
                                                       ClinicService.code == "blood_pressure"))
    assert open_slots(db_session, someone, bp, utcnow())
    before = [_count(db_session, m) for m in (Slot, ScheduleTemplate, HealthRecord, FamilyDoctorSigning)]
    seed_clinic(db_session, community)
    assert [_count(db_session, m) for m in (Slot, ScheduleTemplate, HealthRecord, FamilyDoctorSigning)] == before
