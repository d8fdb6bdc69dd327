"""The cockpit in the console: who may open it, the doctor's health colours (logged), the street admin's
communities side by side with a drill into one, ECharts served from the project, and the demo seed."""

from __future__ import annotations

from cockpit_world import build
from console_forms import login
from sqlalchemy import select

from app.clinic import clinic
from app.clinic.models import FamilyDoctorMember, FamilyDoctorTeam, HealthAccessLog
from app.cockpit import snapshots, streets
from app.cockpit.demo import DEMO_STREET_WALL_TOKEN, DEMO_WALL_TOKEN, SECOND_COMMUNITY, STREET, seed_cockpit
from app.cockpit.models import Snapshot, Street
from app.community.demo import steps
from app.community.models import Community
from app.core.clock import utcnow


def _sign_in(client, make_staff, role, **kwargs):
    staff = make_staff(role, password="right-password", **kwargs)
    from app.core.db import db

    db.session.commit()
    assert login(client, staff.username, "right-password").status_code == 303
    return staff


def test_viewers_open_the_board_and_others_are_refused(client, db_session, make_resident, make_staff):
    world = build(db_session, make_resident)
    snapshots.refresh(db_session, world.community_id, utcnow())
    _sign_in(client, make_staff, "property")
    page = client.get("/console/cockpit")
    assert page.status_code == 200 and "/cockpit/static/echarts.min.js" in page.text and 'id="cockpit"' in page.text
    data = client.get("/console/cockpit/data?health=1").json
    assert {t["key"] for t in data["tiles"]} >= {"residents", "tickets", "wishes", "parking", "clinic", "escalations",
                                                  "campaigns", "alarms", "welfare"}
    assert "health" not in {t["key"] for t in data["tiles"]}  # property staff may not read health data
    assert client.get("/console/cockpit?community=999999").status_code == 403
    assert client.get("/console/cockpit/street").status_code == 403  # not a street admin
    worker = client.application.test_client()
    _sign_in(worker, make_staff, "repair_worker")
    assert worker.get("/console/cockpit").status_code == 403


def test_a_doctor_sees_the_colours_of_their_residents_and_the_read_is_logged(client, db_session, make_resident,
                                                                          make_staff):
    world = build(db_session, make_resident)
    doctor = _sign_in(client, make_staff, "doctor")
    team = FamilyDoctorTeam(community_id=world.community_id, name="陈文团队")
    db_session.add(team)
    db_session.flush()
    db_session.add(FamilyDoctorMember(team_id=team.id, staff_id=doctor.id))
    for resident in world.residents[:8]:  # building 1, four rooms
        clinic.sign_household(db_session, resident.household_id, team.id)
    clinic.record_measurement(db_session, world.residents[0].id, "blood_pressure", {"systolic": 172, "diastolic": 104})
    db_session.commit()
    data = client.get("/console/cockpit/data?health=1").json
    health = next(t for t in data["tiles"] if t["key"] == "health")
    assert health["value"] == 8 and dict(health["details"]) == {"红": "<5", "黄": 0, "绿": "≥5"}
    later = client.get("/console/cockpit/data").json  # the page's polls do not read health data again
    assert "health" not in {t["key"] for t in later["tiles"]}
    logged = db_session.scalars(select(HealthAccessLog).where(HealthAccessLog.staff_id == doctor.id)).all()
    assert [(row.action, row.purpose) for row in logged] == [("count", "cockpit")]


def test_a_street_admin_sees_communities_side_by_side_and_drills_into_one(client, db_session, make_resident,
                                                                        make_staff, make_community):
    home = build(db_session, make_resident)
    other = make_community("东苑")
    make_resident("9", "1", "101", community=other, name="东苑居民")
    admin = make_staff("admin", password="right-password")
    streets.ensure_street(db_session, "未来街道", [home.community_id, other.id], [admin.id])
    db_session.commit()
    assert login(client, admin.username, "right-password").status_code == 303
    page = client.get("/console/cockpit/street")
    assert page.status_code == 200
    for community_id in (home.community_id, other.id):
        assert f'id="street-community-{community_id}"' in page.text
    drill = client.get(f"/console/cockpit/data?community={other.id}").json
    assert drill["community"]["name"] == "东苑" and drill["tiles"][0]["value"] == "<5"
    assert client.get(f"/console/cockpit?community={other.id}").status_code == 200


def test_echarts_is_served_from_the_project_with_its_licence(client):
    script = client.get("/cockpit/static/echarts.min.js")
    assert script.status_code == 200 and b"echarts" in script.data[:2000] and len(script.data) > 500_000
    assert b"Apache License" in client.get("/cockpit/static/ECHARTS-LICENSE.txt").data


def test_the_demo_has_two_communities_a_street_and_a_wall_link(app, client, db_session, make_resident,
                                                               make_staff):
    assert seed_cockpit in steps()  # flask seed-demo (make run) runs it after the features' own steps
    home = build(db_session, make_resident)  # stands in for the demo community (the full seed takes ~20 s)
    community = db_session.get(Community, home.community_id)
    admin = make_staff("admin", username="ck_demo_admin", password="right-password", community=community)
    seed_cockpit(db_session, community)
    db_session.commit()
    names = set(db_session.scalars(select(Community.name)))
    assert SECOND_COMMUNITY in names
    street = db_session.scalar(select(Street).where(Street.name == STREET))
    assert [c.id for c in streets.communities_of(db_session, street.id)][0] == community.id
    assert len(streets.communities_of(db_session, street.id)) == 2
    assert db_session.query(Snapshot).count() == 2
    wall = client.get(f"/cockpit/wall/{DEMO_WALL_TOKEN}/data").json
    assert wall["community"]["id"] == community.id and wall["tiles"][0]["value"] == 17
    side_by_side = client.get(f"/cockpit/wall/{DEMO_STREET_WALL_TOKEN}/data").json
    assert [row["name"] for row in side_by_side["rows"]] == [community.name, SECOND_COMMUNITY]
    assert side_by_side["rows"][1]["residents"] > 50 and side_by_side["rows"][1]["tickets_open"] > 0
    assert login(client, admin.username, "right-password").status_code == 303
    assert f"/cockpit/wall/{DEMO_WALL_TOKEN}" in client.get("/console/cockpit").text  # how to open the wall
    seed_cockpit(db_session, community)
    db_session.commit()  # a second run adds nothing
    assert db_session.query(Street).count() == 1 and db_session.query(Snapshot).count() == 2
    assert db_session.query(Community).filter_by(name=SECOND_COMMUNITY).count() == 1
