"""The doctor's scope, enforced in the service layer and in the console: only the residents of their
team's households and their buildings; a read outside is refused and logged; every read is logged.
Also health colours from the documented thresholds, a doctor's override with a note, and health tags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from clinic_world import build_clinic
from console_forms import login, post
from sqlalchemy import select

from app.clinic import bookings, clinic
from app.clinic.models import FamilyDoctorMember, FamilyDoctorTeam, HealthAccessLog
from app.community.models import Community, Resident
from app.core.clock import utcnow
from app.core.db import db
from app.core.errors import Forbidden, ValidationFailed


@pytest.fixture
def area(db_session, make_resident, make_staff, make_community):
    """Doctor Chen: team A (3幢1201 signed) plus building 5; doctor He: team B; a property clerk."""
    community = make_community()
    inside = make_resident("3", "2", "1201", name="王阿姨", community=community)
    by_building = make_resident("5", "1", "101", name="赵大爷", community=community)
    outside = make_resident("8", "1", "301", name="孙奶奶", community=community)
    chen = make_staff("doctor", username="dr_chen", buildings=["5"], community=community)
    he = make_staff("doctor", username="dr_he", community=community)
    clerk = make_staff("property", username="clerk", community=community)
    team_a = FamilyDoctorTeam(community_id=community.id, name="陈文团队")
    team_b = FamilyDoctorTeam(community_id=community.id, name="何静团队")
    db_session.add_all([team_a, team_b])
    db_session.flush()
    db_session.add_all([FamilyDoctorMember(team_id=team_a.id, staff_id=chen.id),
                        FamilyDoctorMember(team_id=team_b.id, staff_id=he.id)])
    clinic.sign_household(db_session, inside.household_id, team_a.id)
    clinic.sign_household(db_session, outside.household_id, team_b.id)
    db_session.commit()
    return {"community": community, "inside": inside, "by_building": by_building, "outside": outside,
            "chen": chen, "he": he, "clerk": clerk, "team_a": team_a}


def _log() -> list[tuple[int, int, str]]:
    db.session.expire_all()
    return [(r.staff_id, r.resident_id, r.action)
            for r in db.session.scalars(select(HealthAccessLog).order_by(HealthAccessLog.id))]


def test_scope_in_the_service_layer(db_session, area):
    chen, he, clerk = area["chen"], area["he"], area["clerk"]
    mine = [r.name for r, _ in db_session.execute(clinic.residents_in_scope(db_session, chen))]
    assert sorted(mine) == ["王阿姨", "赵大爷"]
    assert [r.name for r, _ in db_session.execute(clinic.residents_in_scope(db_session, he))] == ["孙奶奶"]
    assert db_session.execute(clinic.residents_in_scope(db_session, clerk)).all() == []
    assert clinic.open_health_file(db_session, chen, area["inside"].id).name == "王阿姨"
    with pytest.raises(Forbidden) as refused:
        clinic.open_health_file(db_session, chen, area["outside"].id)
    assert refused.value.code == "out_of_scope"
    with pytest.raises(Forbidden):
        clinic.open_health_file(db_session, clerk, area["inside"].id)  # not a doctor
    assert _log() == [(chen.id, area["inside"].id, "view"), (chen.id, area["outside"].id, "refused"),
                      (clerk.id, area["inside"].id, "refused")]


def test_thresholds_colour_and_doctor_override(db_session, area):
    wang, chen = area["inside"], area["chen"]
    assert clinic.colour_for("blood_pressure", {"systolic": 128, "diastolic": 82}) == "green"
    assert clinic.colour_for("blood_pressure", {"systolic": 145, "diastolic": 85}) == "yellow"
    assert clinic.colour_for("blood_pressure", {"systolic": 150, "diastolic": 101}) == "red"
    assert clinic.colour_for("blood_glucose", {"value": 7.2}) == "yellow"
    assert clinic.colour_for("blood_glucose", {"value": 12}) == "red"
    assert clinic.colour_for("bmi", {"value": 17}) == "yellow"
    assert clinic.colour_for("uric_acid", {"value": 560}) == "red"
    assert clinic.colour_for("cholesterol", {"value": 5.1}) == "green"
    with pytest.raises(ValidationFailed):
        clinic.colour_for("blood_pressure", {"systolic": "high"})
    clinic.record_measurement(db_session, wang.id, "blood_glucose", {"value": 7.5})
    assert clinic.colour_of(db_session, wang.id) == "yellow"
    clinic.record_measurement(db_session, wang.id, "blood_pressure", {"systolic": 168, "diastolic": 96})
    assert clinic.colour_of(db_session, wang.id) == "red"
    assert "health:red" in {t.name for t in db_session.get(Resident, wang.id).tags}
    with pytest.raises(ValidationFailed):
        clinic.set_colour(db_session, chen, wang.id, "yellow", "")  # a note is required
    clinic.set_colour(db_session, chen, wang.id, "yellow", "复测正常，白大衣高血压")
    clinic.record_measurement(db_session, wang.id, "blood_pressure", {"systolic": 170, "diastolic": 100})
    assert clinic.colour_of(db_session, wang.id) == "yellow"  # the doctor's colour holds
    tags = {t.name for t in db_session.get(Resident, wang.id).tags}
    assert "health:yellow" in tags and "health:red" not in tags
    clinic.set_colour(db_session, chen, wang.id, None, "交回自动评估")
    assert clinic.colour_of(db_session, wang.id) == "red"
    with pytest.raises(Forbidden):
        clinic.set_colour(db_session, chen, area["outside"].id, "green", "越权")


def test_home_visits_are_offered_by_the_households_own_team(db_session, area):
    built = build_clinic(db_session, area["community"].id)
    from app.clinic.models import Provider

    own = Provider(community_id=area["community"].id, staff_id=area["chen"].id, name="陈文医生",
                   team_id=area["team_a"].id)
    db_session.add(own)
    db_session.flush()
    start = utcnow() + timedelta(days=2)
    theirs = built.slot(db_session, "home_visit", start, provider=own)
    built.slot(db_session, "home_visit", start + timedelta(hours=1))  # a provider of no team
    from app.clinic.slots import open_slots

    service = built.services["home_visit"]
    assert [s.id for s in open_slots(db_session, area["inside"], service, utcnow())] == [theirs.id]
    assert open_slots(db_session, area["by_building"], service, utcnow()) == []  # not signed to a team


@pytest.fixture
def doctor_client(client, area):
    assert login(client, "dr_chen").status_code == 303
    return client


def test_console_lists_only_the_area_and_logs_reads(doctor_client, area, db_session):
    clinic.record_measurement(db_session, area["inside"].id, "blood_pressure", {"systolic": 165, "diastolic": 90})
    db_session.commit()
    page = doctor_client.get("/console/clinic").get_data(as_text=True)
    assert "王阿姨" in page and "赵大爷" in page and "孙奶奶" not in page
    assert page.index("王阿姨") < page.index("赵大爷")  # red first
    red_only = doctor_client.get("/console/clinic?colour=red").get_data(as_text=True)
    assert "王阿姨" in red_only and "赵大爷" not in red_only
    file = doctor_client.get(f"/console/clinic/residents/{area['inside'].id}")
    assert file.status_code == 200 and "红色" in file.get_data(as_text=True) and "165" in file.get_data(as_text=True)
    refused = doctor_client.get(f"/console/clinic/residents/{area['outside'].id}")
    assert refused.status_code == 403 and "不在您负责的范围内" in refused.get_data(as_text=True)
    chen = area["chen"].id
    listed = [entry for entry in _log() if entry[2] == "list"]
    assert sorted(listed) == sorted([(chen, area["inside"].id, "list"), (chen, area["by_building"].id, "list"),
                                     (chen, area["inside"].id, "list")])  # the full list, then the red tab
    reads = [entry for entry in _log() if entry[2] != "list"]
    assert reads == [(chen, area["inside"].id, "view"), (chen, area["outside"].id, "refused")]


def test_console_colour_override_and_check_in(doctor_client, area, db_session):
    built = build_clinic(db_session, area["community"].id)
    slot = built.slot(db_session, "blood_pressure", utcnow() + timedelta(days=1))
    booking = bookings.create_booking(db_session, area["inside"], slot.id)
    db_session.commit()
    path = f"/console/clinic/residents/{area['inside'].id}"
    saved = post(doctor_client, f"{path}/colour", {"colour": "red", "note": "近期血压控制差"})
    assert saved.status_code == 303
    assert clinic.colour_of(db.session, area["inside"].id) == "red"
    assert post(doctor_client, f"/console/clinic/bookings/{booking.id}/check_in").status_code == 303
    db.session.expire_all()
    assert db.session.get(type(booking), booking.id).status == "checked_in"
    no_csrf = doctor_client.post(f"{path}/colour", data={"colour": "green", "note": "x"})
    assert no_csrf.status_code == 400 and "csrf_failed" in no_csrf.get_data(as_text=True)
    other = post(doctor_client, f"/console/clinic/residents/{area['outside'].id}/colour",
                 {"colour": "green", "note": "越权"})
    assert other.status_code == 403


def test_other_roles_cannot_open_the_doctor_console(client, area):
    assert login(client, "clerk").status_code == 303
    assert client.get("/console/clinic").status_code == 403


def test_communities_do_not_mix(db_session, area, make_staff, make_community):
    elsewhere = make_community()
    stranger = make_staff("doctor", username="dr_far", buildings=["3"], community=elsewhere)
    db_session.commit()
    assert db_session.execute(clinic.residents_in_scope(db_session, stranger)).all() == []
    with pytest.raises(Exception) as err:
        clinic.open_health_file(db_session, stranger, area["inside"].id)
    assert getattr(err.value, "status", None) == 404
    assert db_session.get(Community, area["community"].id) is not None


def test_a_home_visit_request_goes_to_the_households_own_team(db_session, area, app, monkeypatch, run_jobs,
                                                              fake_wechat):
    from app.clinic import bookings
    from app.clinic.models import Provider

    for key, value in (("WECOM_CORP_ID", "wwcorp"), ("WECOM_SECRET", "wecom-secret"), ("WECOM_AGENT_ID", "1000002")):
        monkeypatch.setitem(app.config, key, value)
    app.extensions.get("wechat_clients", {}).pop("wecom", None)
    area["chen"].wecom_userid, area["he"].wecom_userid = "chen_wecom", "he_wecom"
    built = build_clinic(db_session, area["community"].id)
    own = Provider(community_id=area["community"].id, staff_id=area["chen"].id, name="陈文医生",
                   team_id=area["team_a"].id)
    db_session.add(own)
    db_session.flush()
    slot = built.slot(db_session, "home_visit", utcnow() + timedelta(days=2), provider=own)
    bookings.create_booking(db_session, area["inside"], slot.id, note="腿脚不便，量血压")
    db_session.commit()
    run_jobs()
    alerts = fake_wechat.sent_messages("wecom")
    assert [a["touser"] for a in alerts] == ["chen_wecom"]  # team A only, not doctor He's team
    assert "王阿姨" in alerts[0]["text"]["content"] and "腿脚不便" in alerts[0]["text"]["content"]
    app.extensions.get("wechat_clients", {}).pop("wecom", None)
