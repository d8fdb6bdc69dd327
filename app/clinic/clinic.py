"""The clinic's catalogue, family-doctor teams and the doctor's scope, and health colours.

Health colour thresholds (documented here, applied to every kiosk or doctor reading; the worst
colour of a resident's latest reading of each kind becomes their colour unless a doctor set it):

    blood_pressure  systolic/diastolic mmHg: red >= 160 or >= 100, or < 80 systolic; yellow >= 140 or >= 90,
                    or < 90 systolic
    blood_glucose   fasting mmol/L: red >= 11.1 or < 2.8; yellow >= 7.0 or < 3.9
    bmi             kg/m2: red >= 35; yellow >= 28 or < 18.5
    uric_acid       umol/L: red > 540; yellow > 420
    cholesterol     total, mmol/L: red >= 7.8; yellow >= 6.2

A reading is classified only once app/clinic/readings.py believes it: the keys its kind may carry,
each value a finite number within its plausible range (the one table of ranges and units).

Scope: a doctor reads the health data of the residents of households signed to one of their
family-doctor teams, and of the buildings in their building_scope (when set). No other role reads
health data, admins included (they read the access log instead). Every read and every refused attempt
is written to health_access_log with the staff member, their IP, their console session and the purpose;
the clinic registers this rule with app.community.health_access, which other features (campaign
audiences naming health:red) ask.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Select, case, insert, or_, select
from sqlalchemy.orm import Session, joinedload

from app.clinic import readings
from app.clinic.models import (
    COLOURS,
    MEASUREMENT_KINDS,
    FamilyDoctorMember,
    FamilyDoctorSigning,
    FamilyDoctorTeam,
    HealthAccessLog,
    HealthRecord,
    Measurement,
)
from app.community import health_access
from app.community.models import Building, Household, Resident, Staff, Unit
from app.community.tags import TagRule, refresh_system_tags
from app.core.clock import utcnow
from app.core.errors import Forbidden, NotFound, ValidationFailed

SERVICE_LABELS = {
    "blood_pressure": "测血压", "blood_glucose": "测血糖", "ecg": "心电图", "ct": "CT检查", "gastroscopy": "胃镜",
    "colonoscopy": "肠镜", "checkup": "体检", "home_visit": "家庭医生上门", "video_consult": "视频问诊",
    "general": "全科门诊", "tcm": "中医", "vaccination": "打疫苗",
}
SERVICE_ALIASES = {  # words a resident answers with when asked which service
    "blood_pressure": ("血压",), "blood_glucose": ("血糖",), "ecg": ("心电",), "ct": ("ct", "CT"),
    "gastroscopy": ("胃镜",), "colonoscopy": ("肠镜",), "checkup": ("体检",), "home_visit": ("上门", "家庭医生"),
    "video_consult": ("视频",), "general": ("全科", "门诊", "看病"), "tcm": ("中医", "针灸"),
    "vaccination": ("疫苗",),
}
COLOUR_LABELS = {"red": "红色（重点关注）", "yellow": "黄色（加强随访）", "green": "绿色（健康）"}
MEASUREMENT_LABELS = {"blood_pressure": "血压", "blood_glucose": "血糖", "bmi": "BMI", "uric_acid": "尿酸",
                      "cholesterol": "总胆固醇"}
DOCTOR_ROLE = "doctor"
_RANK = {"green": 0, "yellow": 1, "red": 2}


def service_from_text(text: str) -> str | None:
    """The contract service id a short answer names (心电图 -> ecg), or None."""
    for code, label in SERVICE_LABELS.items():
        if label in text:
            return code
    for code, words in SERVICE_ALIASES.items():
        if any(w in text for w in words):
            return code
    return None


# ---- family-doctor teams and scope -------------------------------------------------------------

def team_for_household(session: Session, household_id: int | None) -> FamilyDoctorTeam | None:
    """The family-doctor team a household is signed to."""
    if household_id is None:
        return None
    signing = session.scalar(select(FamilyDoctorSigning).where(FamilyDoctorSigning.household_id == household_id))
    return signing.team if signing is not None else None


def doctors_for_household(session: Session, household: Household) -> list[Staff]:
    """The active doctors who answer for a household: its family-doctor team, or when it has none, the
    doctors whose building scope names its building."""
    team = team_for_household(session, household.id)
    if team is not None:
        return [m.staff for m in team.members if m.staff.active]
    building = household.unit.building
    doctors = session.scalars(select(Staff).where(Staff.community_id == building.community_id,
                                                  Staff.role == DOCTOR_ROLE, Staff.active.is_(True)))
    return [d for d in doctors if building.number in (d.building_scope or [])]


def sign_household(session: Session, household_id: int, team_id: int) -> FamilyDoctorSigning:
    """Sign a household to a team (moving it when it was signed elsewhere)."""
    signing = session.scalar(select(FamilyDoctorSigning).where(FamilyDoctorSigning.household_id == household_id))
    if signing is None:
        signing = FamilyDoctorSigning(household_id=household_id, team_id=team_id)
        session.add(signing)
    else:
        signing.team_id = team_id
    session.flush()
    return signing


def team_ids_for(session: Session, staff: Staff) -> list[int]:
    """The family-doctor teams a staff member belongs to."""
    return list(session.scalars(select(FamilyDoctorMember.team_id).where(FamilyDoctorMember.staff_id == staff.id)))


def may_read_health(staff: Staff) -> bool:
    """Whether this staff member's role may read health data at all: active doctors only."""
    return staff.role == DOCTOR_ROLE and staff.active


def scope_filter(session: Session, staff: Staff):
    """A WHERE clause on Resident: the residents this doctor may see (false for anyone else)."""
    if not may_read_health(staff):
        return Resident.id.is_(None) & Resident.id.is_not(None)
    teams = team_ids_for(session, staff)
    signed = Resident.household_id.in_(
        select(FamilyDoctorSigning.household_id).where(FamilyDoctorSigning.team_id.in_(teams or [-1])))
    clauses = [signed]
    if staff.building_scope:
        in_buildings = Resident.household_id.in_(
            select(Household.id).join(Unit, Household.unit_id == Unit.id)
            .join(Building, Unit.building_id == Building.id)
            .where(Building.community_id == staff.community_id, Building.number.in_(list(staff.building_scope))))
        clauses.append(in_buildings)
    return (Resident.community_id == staff.community_id) & (Resident.status == "active") & or_(*clauses)


def residents_in_scope(session: Session, staff: Staff, *, colour: str | None = None) -> Select:
    """The doctor's residents with their health record (outer-joined), red first; filter by colour."""
    query = (select(Resident, HealthRecord).outerjoin(HealthRecord, HealthRecord.resident_id == Resident.id)
             .where(scope_filter(session, staff)))
    if colour == "green":
        query = query.where(or_(HealthRecord.colour == "green", HealthRecord.id.is_(None)))
    elif colour in COLOURS:
        query = query.where(HealthRecord.colour == colour)
    rank = case((HealthRecord.colour == "red", 0), (HealthRecord.colour == "yellow", 1), else_=2)
    return query.order_by(rank, Resident.id)


def list_residents(session: Session, staff: Staff, *, colour: str | None = None, limit: int = 500,
                   purpose: str = "list", ip: str | None = None,
                   session_ref: str | None = None) -> list[tuple[Resident, HealthRecord | None]]:
    """The doctor's residents for a list page; each one shown is audit-logged as a `list` read."""
    rows = [tuple(row) for row in session.execute(residents_in_scope(session, staff, colour=colour).limit(limit))]
    if rows:
        now = utcnow()
        session.execute(insert(HealthAccessLog), [
            {"staff_id": staff.id, "resident_id": r.id, "action": "list", "purpose": purpose, "ip": ip,
             "session_ref": session_ref, "at": now}
            for r, _ in rows])
    return rows


def in_scope(session: Session, staff: Staff, resident_id: int) -> bool:
    """Whether this staff member may read this resident's health data."""
    return session.scalar(select(Resident.id).where(Resident.id == resident_id, scope_filter(session, staff))) \
        is not None


def record_access(session: Session, staff: Staff, *, action: str, purpose: str, ip: str | None = None,
                  session_ref: str | None = None, resident_id: int | None = None, detail: str = "") -> None:
    """One row of the health-data access log (a read, a refused attempt, a colour change), flushed."""
    session.add(HealthAccessLog(staff_id=staff.id, resident_id=resident_id, action=action, purpose=purpose[:30],
                                ip=(ip or None) and ip[:45], session_ref=(session_ref or None) and session_ref[:64],
                                detail=(detail or "")[:2000], at=utcnow()))
    session.flush()


def open_health_file(session: Session, staff: Staff, resident_id: int, *, purpose: str = "resident_file",
                     ip: str | None = None, session_ref: str | None = None) -> Resident:
    """A resident a doctor is about to read: logged as a view, or logged as refused and Forbidden.

    The caller commits before re-raising Forbidden, so the refused attempt is kept.
    """
    resident = session.get(Resident, resident_id)
    if resident is None or resident.community_id != staff.community_id:
        raise NotFound("没有找到这位住户", code="resident_not_found")
    where = {"purpose": purpose, "ip": ip, "session_ref": session_ref, "resident_id": resident_id}
    if not in_scope(session, staff, resident_id):
        record_access(session, staff, action="refused", **where)
        raise Forbidden("这位住户不在您负责的范围内", code="out_of_scope")
    record_access(session, staff, action="view", **where)
    return resident


# ---- health colour and measurements ------------------------------------------------------------

def colour_for(kind: str, values: dict) -> str:
    """What the documented thresholds say about one reading (refused first unless readings.check believes it)."""
    return _classify(kind, readings.check(kind, values))


def _classify(kind: str, values: dict) -> str:
    if kind == "blood_pressure":
        sys_, dia = values["systolic"], values["diastolic"]
        if sys_ >= 160 or dia >= 100 or sys_ < 80:
            return "red"
        return "yellow" if sys_ >= 140 or dia >= 90 or sys_ < 90 else "green"
    v = values["value"]
    if kind == "blood_glucose":
        return "red" if v >= 11.1 or v < 2.8 else "yellow" if v >= 7.0 or v < 3.9 else "green"
    if kind == "bmi":
        return "red" if v >= 35 else "yellow" if v >= 28 or v < 18.5 else "green"
    if kind == "uric_acid":
        return "red" if v > 540 else "yellow" if v > 420 else "green"
    if kind == "cholesterol":
        return "red" if v >= 7.8 else "yellow" if v >= 6.2 else "green"
    raise ValidationFailed(f"不支持的测量项目：{kind}", code="bad_measurement_kind")


def health_record(session: Session, resident_id: int) -> HealthRecord | None:
    """A resident's health record, if any."""
    return session.scalar(select(HealthRecord).where(HealthRecord.resident_id == resident_id))


def colour_of(session: Session, resident_id: int) -> str | None:
    """A resident's health colour (None when never measured or set)."""
    record = health_record(session, resident_id)
    return record.colour if record is not None else None


def record_measurement(session: Session, resident_id: int, kind: str, values: dict, *, source: str = "kiosk",
                       device_id: int | None = None, now: datetime | None = None) -> Measurement:
    """Store a reading and recompute the resident's colour (unless a doctor set it)."""
    if kind not in MEASUREMENT_KINDS:
        raise ValidationFailed(f"不支持的测量项目：{kind}", code="bad_measurement_kind")
    clean = readings.check(kind, values)  # unknown keys, non-finite or implausible values: refused, never stored
    reading = Measurement(resident_id=resident_id, kind=kind, values=clean, colour=_classify(kind, clean),
                          source=source, device_id=device_id, measured_at=now or utcnow())
    session.add(reading)
    session.flush()
    record = health_record(session, resident_id)
    if record is None:
        record = HealthRecord(resident_id=resident_id, colour="green", source="auto", note="")
        session.add(record)
    if record.source != "doctor":
        record.colour = _worst_latest(session, resident_id)
    session.flush()
    _refresh_tags(session, resident_id)
    return reading


def _worst_latest(session: Session, resident_id: int) -> str:
    worst = "green"
    for kind in MEASUREMENT_KINDS:
        latest = session.scalar(select(Measurement.colour).where(Measurement.resident_id == resident_id,
                                                                 Measurement.kind == kind)
                                .order_by(Measurement.measured_at.desc(), Measurement.id.desc()).limit(1))
        if latest is not None and _RANK[latest] > _RANK[worst]:
            worst = latest
    return worst


def set_colour(session: Session, staff: Staff, resident_id: int, colour: str | None, note: str, *,
               ip: str | None = None, session_ref: str | None = None) -> HealthRecord:
    """A doctor sets (or, with colour=None, hands back to the thresholds) a resident's colour, with a note."""
    open_health_file(session, staff, resident_id, purpose="colour_change", ip=ip, session_ref=session_ref)
    if colour is not None and colour not in COLOURS:
        raise ValidationFailed("颜色只能是红、黄、绿", code="bad_colour")
    if colour is not None and not (note or "").strip():
        raise ValidationFailed("调整健康颜色需要填写说明", code="note_required")
    record = health_record(session, resident_id)
    if record is None:
        record = HealthRecord(resident_id=resident_id, colour="green", source="auto", note="")
        session.add(record)
    if colour is None:
        record.source, record.colour = "auto", _worst_latest(session, resident_id)
    else:
        record.source, record.colour = "doctor", colour
    record.note, record.set_by_id = (note or "").strip()[:1000], staff.id
    record_access(session, staff, action="colour_override", purpose="colour_change", ip=ip, session_ref=session_ref,
                  resident_id=resident_id)  # the colour itself stays out of the log, which admins read
    _refresh_tags(session, resident_id)
    return record


def measurements(session: Session, resident_id: int, limit: int = 50) -> list[Measurement]:
    """A resident's latest readings, newest first."""
    return list(session.scalars(select(Measurement).where(Measurement.resident_id == resident_id)
                                .order_by(Measurement.measured_at.desc(), Measurement.id.desc()).limit(limit)))


def export_own(session: Session, resident: Resident) -> dict:
    """Everything the clinic holds about a resident's health, for the resident themselves."""
    record = health_record(session, resident.id)
    return {
        "colour": record.colour if record else None,
        "colour_note": record.note if record and record.source == "doctor" else "",
        "measurements": [{"kind": m.kind, "values": m.values, "colour": m.colour, "source": m.source,
                          "measured_at": m.measured_at.isoformat() + "Z"}
                         for m in measurements(session, resident.id, limit=1000)],
    }


def hash_device_token(token: str) -> str:
    """What a kiosk's token is stored as (the token itself is never kept)."""
    return hashlib.sha256(token.encode()).hexdigest()


def health_colours(session: Session, resident_ids: list[int]) -> dict[int, str]:
    """Bulk loader for the health:<colour> system tag rule."""
    if not resident_ids:
        return {}
    wanted = set(resident_ids)  # one query whatever the batch size: a range, filtered here
    rows = session.execute(select(HealthRecord.resident_id, HealthRecord.colour).where(
        HealthRecord.resident_id.between(min(wanted), max(wanted))))
    return {rid: colour for rid, colour in rows if rid in wanted}


HEALTH_TAGS = TagRule(  # health:red|yellow|green, from the clinic's health record (added at init_app)
    health_access.HEALTH_TAG_PREFIX, lambda _facts, colour: [colour] if colour else [],
    lambda v: {"red": "健康红色（重点关注）", "yellow": "健康黄色（加强随访）", "green": "健康绿色"}.get(v, v),
    load=health_colours,
)


def _refresh_tags(session: Session, resident_id: int) -> None:
    resident = session.get(Resident, resident_id)
    if resident is not None:
        refresh_system_tags(session, resident)


# ---- the access log, read by admins ------------------------------------------------------------

ACCESS_ACTION_LABELS = {"list": "列表", "view": "查看档案", "count": "统计人数", "refused": "被拒绝",
                        "colour_override": "调整颜色"}
ACCESS_PURPOSE_LABELS = {
    "list": "家庭医生名单", "resident_file": "查看健康档案", "colour_change": "调整健康颜色", "booking": "处理预约",
    "campaign_preview": "群发预览", "campaign_count": "群发人数", "campaign_draft": "保存群发草稿",
    "campaign_send": "安排群发",
}


def access_log_query(community_id: int, *, staff_id: int | None = None, purpose: str | None = None) -> Select:
    """The community's health-data access log, newest first, optionally one staff member's or one purpose's.

    The rows say who read whose data, when, from where and why; never what the data was (no colours)."""
    query = (select(HealthAccessLog).join(Staff, HealthAccessLog.staff_id == Staff.id)
             .where(Staff.community_id == community_id)
             .options(joinedload(HealthAccessLog.staff), joinedload(HealthAccessLog.resident)
                      .joinedload(Resident.household)))
    if staff_id is not None:
        query = query.where(HealthAccessLog.staff_id == staff_id)
    if purpose:
        query = query.where(HealthAccessLog.purpose == purpose)
    return query.order_by(HealthAccessLog.id.desc())


def access_log_staff(session: Session, community_id: int) -> list[Staff]:
    """The staff members who appear in the community's access log (for the filter)."""
    ids = select(HealthAccessLog.staff_id).distinct()
    return list(session.scalars(select(Staff).where(Staff.community_id == community_id, Staff.id.in_(ids))
                                .order_by(Staff.name, Staff.id)))


HEALTH_ACCESS = health_access.HealthAccessRule(  # who may read health data, for other features (init_app)
    may_read=may_read_health, scope=scope_filter, record=record_access,
)
