"""Demo data for the clinic: every service, rooms, providers with weekly schedules, slots for the coming
3 weeks, two family-doctor teams with their buildings' households signed, a kiosk, and health colours
from seeded readings of the older residents. Idempotent: the catalogue is made once, slots are topped up."""

from __future__ import annotations

import random

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.clinic.clinic import SERVICE_LABELS, colour_for, hash_device_token
from app.clinic.models import (
    ClinicPlace,
    ClinicService,
    FamilyDoctorMember,
    FamilyDoctorSigning,
    FamilyDoctorTeam,
    HealthRecord,
    KioskDevice,
    Measurement,
    Provider,
    ScheduleTemplate,
)
from app.clinic.slots import generate_slots
from app.community.models import Building, Community, Household, Resident, Staff, Unit
from app.community.tags import refresh_residents
from app.core.clock import local_now, utcnow

SLOT_DAYS = 21
DEMO_KIOSK_TOKEN = "demo-kiosk-2026"
NEEDS_A_DAY = ("ct", "gastroscopy", "colonoscopy")  # exams booked at least a day ahead
PLACES = {"room1": ("room", "卫生服务站1诊室"), "room2": ("room", "卫生服务站2诊室"), "hut": ("room", "健康小屋"),
          "exam": ("room", "检查室（联盟医院）"), "home": ("home", "上门服务"), "video": ("video", "视频问诊")}
# provider key -> (name, specialty, staff username or None)
PROVIDERS = {"doctor1": ("陈文医生", "全科", "doctor1"), "doctor2": ("何静医生", "全科", "doctor2"),
             "nurse": ("健康小屋护士站", "护理", None), "ecg": ("心电图室", "功能检查", None),
             "alliance": ("联盟医院专科", "专科", None), "tcm": ("周建明中医师", "中医", None),
             "vaccine": ("预防接种门诊", "预防保健", None)}
# (service, provider, place, weekdays, start, end, minutes, capacity, reserved for red)
SCHEDULES = (
    ("blood_pressure", "nurse", "hut", (0, 1, 2, 3, 4, 5), "08:00", "11:00", 15, 3, 1),
    ("blood_glucose", "nurse", "hut", (0, 1, 2, 3, 4), "07:30", "09:30", 15, 3, 1),
    ("checkup", "nurse", "hut", (1, 3), "07:30", "09:30", 30, 4, 1),
    ("general", "doctor1", "room1", (0, 2, 4), "08:30", "11:30", 20, 1, 0),
    ("general", "doctor2", "room2", (1, 3, 5), "08:30", "11:30", 20, 1, 0),
    ("home_visit", "doctor1", "home", (1,), "14:00", "17:00", 60, 1, 0),
    ("home_visit", "doctor2", "home", (3,), "14:00", "17:00", 60, 1, 0),
    ("ecg", "ecg", "exam", (0, 1, 2, 3, 4), "09:00", "11:30", 15, 1, 0),
    ("ct", "alliance", "exam", (1, 3), "14:00", "16:30", 30, 1, 0),
    ("gastroscopy", "alliance", "exam", (2,), "08:30", "11:00", 30, 1, 0),
    ("colonoscopy", "alliance", "exam", (4,), "08:30", "11:00", 30, 1, 0),
    ("video_consult", "alliance", "video", (0, 3), "19:00", "21:00", 20, 1, 0),
    ("tcm", "tcm", "room2", (1, 4), "14:00", "17:00", 20, 1, 0),
    ("vaccination", "vaccine", "room1", (0, 2, 4), "13:30", "16:30", 15, 4, 0),
)


def seed_clinic(session: Session, community: Community) -> None:
    """The clinic catalogue and teams once, then slots topped up for the coming 3 weeks, then colours once."""
    if not session.scalar(select(func.count()).select_from(ClinicService)
                          .where(ClinicService.community_id == community.id)):
        _catalogue(session, community)
    generate_slots(session, community.id, local_now().date(), SLOT_DAYS)
    _colours(session, community)


def _catalogue(session: Session, community: Community) -> None:
    staff = {s.username: s for s in session.scalars(select(Staff).where(Staff.community_id == community.id))}
    services = {code: ClinicService(community_id=community.id, code=code, name=label,
                                    place_kind={"home_visit": "home", "video_consult": "video"}.get(code, "room"),
                                    duration_minutes=30 if code in NEEDS_A_DAY else 15,
                                    min_notice_minutes=1440 if code in NEEDS_A_DAY else 60,
                                    horizon_days=SLOT_DAYS if code in NEEDS_A_DAY else 14,
                                    max_active_per_resident=1 if code in NEEDS_A_DAY else 2)
                for code, label in SERVICE_LABELS.items()}
    places = {key: ClinicPlace(community_id=community.id, kind=kind, name=name) for key, (kind, name) in PLACES.items()}
    session.add_all([*services.values(), *places.values()])
    teams = {}
    for username in ("doctor1", "doctor2"):
        doctor = staff.get(username)
        if doctor is None:
            continue
        teams[username] = FamilyDoctorTeam(community_id=community.id, name=f"{doctor.name}家庭医生团队")
        session.add(teams[username])
    session.flush()
    for username, team in teams.items():
        session.add(FamilyDoctorMember(team_id=team.id, staff_id=staff[username].id))
        _sign_buildings(session, community, team, staff[username].building_scope or [])
    providers = {}
    for key, (name, specialty, username) in PROVIDERS.items():
        doctor = staff.get(username) if username else None
        providers[key] = Provider(community_id=community.id, staff_id=doctor.id if doctor else None, name=name,
                                  specialty=specialty, team_id=teams[username].id if username in teams else None)
    session.add_all(providers.values())
    session.flush()
    for code, provider, place, weekdays, start, end, minutes, capacity, reserved in SCHEDULES:
        for weekday in weekdays:
            session.add(ScheduleTemplate(community_id=community.id, provider_id=providers[provider].id,
                                         service_id=services[code].id, place_id=places[place].id, weekday=weekday,
                                         start=start, end=end, slot_minutes=minutes, capacity=capacity,
                                         reserved=reserved))
    session.add(KioskDevice(community_id=community.id, name="健康小屋自助检测机",
                            token_hash=hash_device_token(DEMO_KIOSK_TOKEN)))
    session.flush()


def _sign_buildings(session: Session, community: Community, team: FamilyDoctorTeam, buildings: list[str]) -> None:
    households = list(session.scalars(select(Household.id).join(Unit, Household.unit_id == Unit.id)
                                      .join(Building, Unit.building_id == Building.id)
                                      .where(Building.community_id == community.id, Building.number.in_(buildings))))
    if not households:
        return
    session.execute(insert(FamilyDoctorSigning), [{"household_id": h, "team_id": team.id, "signed_at": utcnow()}
                                                  for h in households])


def _colours(session: Session, community: Community) -> None:
    """Blood pressure (and some glucose) readings for residents aged 60+, once: a mix of green, yellow, red."""
    already = session.scalar(select(func.count()).select_from(HealthRecord).join(
        Resident, HealthRecord.resident_id == Resident.id).where(Resident.community_id == community.id))
    if already:
        return
    rng = random.Random(2026)
    year, now = local_now().year, utcnow()
    older = list(session.scalars(select(Resident.id).where(Resident.community_id == community.id,
                                                           Resident.birth_year <= year - 60).order_by(Resident.id)))
    readings, records = [], []
    for resident_id in older:
        roll = rng.random()
        systolic = rng.randint(165, 180) if roll < 0.12 else rng.randint(141, 155) if roll < 0.4 \
            else rng.randint(110, 135)
        diastolic = min(110, max(65, systolic - rng.randint(45, 65)))
        values = [("blood_pressure", {"systolic": systolic, "diastolic": diastolic})]
        if rng.random() < 0.3:
            values.append(("blood_glucose", {"value": round(rng.uniform(4.5, 8.5), 1)}))
        colours = [colour_for(kind, v) for kind, v in values]
        readings += [{"resident_id": resident_id, "kind": kind, "values": v, "colour": c, "source": "kiosk",
                      "measured_at": now} for (kind, v), c in zip(values, colours, strict=True)]
        worst = max(colours, key=("green", "yellow", "red").index)
        records.append({"resident_id": resident_id, "colour": worst, "source": "auto", "note": "", "updated_at": now})
    if records:  # written in bulk, then the health:<colour> tags in one refresh
        session.execute(insert(Measurement), readings)
        session.execute(insert(HealthRecord), records)
        refresh_residents(session, community.id, older)
