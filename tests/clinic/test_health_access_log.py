"""Every read of health data is logged with staff, IP, console session and purpose; admins read the log
on their own console page (newest first, by staff and purpose, paginated); nobody else does."""

from __future__ import annotations

import pytest
from console_forms import login, post
from sqlalchemy import select

from app.clinic import clinic
from app.clinic.models import FamilyDoctorMember, FamilyDoctorTeam, HealthAccessLog
from app.community import health_access
from app.core.db import db


@pytest.fixture
def ward(db_session, make_community, make_resident, make_staff):
    """Doctor Chen (team signed to 3幢1201, plus building 5), a property clerk, an admin."""
    community = make_community()
    signed = make_resident("3", "2", "1201", name="王阿姨", community=community)
    by_building = make_resident("5", "1", "101", name="赵大爷", community=community)
    outside = make_resident("8", "1", "301", name="孙奶奶", community=community)
    chen = make_staff("doctor", username="dr_chen", buildings=["5"], community=community)
    clerk = make_staff("property", username="clerk", community=community)
    admin = make_staff("admin", username="boss", community=community)
    team = FamilyDoctorTeam(community_id=community.id, name="陈文团队")
    db_session.add(team)
    db_session.flush()
    db_session.add(FamilyDoctorMember(team_id=team.id, staff_id=chen.id))
    clinic.sign_household(db_session, signed.household_id, team.id)
    clinic.record_measurement(db_session, signed.id, "blood_pressure", {"systolic": 170, "diastolic": 105})
    db_session.commit()
    return {"community": community, "signed": signed, "by_building": by_building, "outside": outside,
            "chen": chen, "clerk": clerk, "admin": admin}


def _log() -> list[HealthAccessLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(HealthAccessLog).order_by(HealthAccessLog.id)))


def test_doctor_reads_on_the_console_carry_ip_session_and_purpose(client, ward):
    assert login(client, "dr_chen").status_code == 303
    assert client.get("/console/clinic").status_code == 200
    assert client.get(f"/console/clinic/residents/{ward['signed'].id}").status_code == 200
    assert client.get(f"/console/clinic/residents/{ward['outside'].id}").status_code == 403
    assert post(client, f"/console/clinic/residents/{ward['signed'].id}/colour",
                {"colour": "yellow", "note": "复测好转"}).status_code == 303
    rows = _log()
    assert [(r.action, r.purpose) for r in rows] == [
        ("list", "list"), ("list", "list"), ("view", "resident_file"), ("refused", "resident_file"),
        ("view", "colour_change"), ("view", "colour_change"), ("colour_override", "colour_change")]
    assert {r.staff_id for r in rows} == {ward["chen"].id}
    assert {r.ip for r in rows} == {"127.0.0.1"}
    assert len({r.session_ref for r in rows}) == 1 and rows[0].session_ref
    assert all("yellow" not in r.detail and "red" not in r.detail for r in rows)  # no colours in the log


def test_a_new_sign_in_is_a_new_session(client, ward):
    assert login(client, "dr_chen").status_code == 303
    client.get(f"/console/clinic/residents/{ward['signed'].id}")
    assert post(client, "/console/logout").status_code == 303
    assert login(client, "dr_chen").status_code == 303
    client.get(f"/console/clinic/residents/{ward['signed'].id}")
    first, second = _log()
    assert first.session_ref != second.session_ref


def test_who_may_read_health_data(db_session, ward):
    assert health_access.may_read(ward["chen"]) is True
    assert health_access.may_read(ward["admin"]) is False  # admins read the log, not the files
    assert health_access.may_read(ward["clerk"]) is False
    ward["chen"].active = False
    assert health_access.may_read(ward["chen"]) is False


def _seed_log(db_session, ward, n: int) -> None:
    for i in range(n):
        clinic.record_access(db_session, ward["chen"], action="view", resident_id=ward["signed"].id,
                             purpose="resident_file" if i % 2 else "list", ip="10.0.0.9", session_ref="abc123")
    clinic.record_access(db_session, ward["chen"], action="count", purpose="campaign_preview", ip="10.0.0.7",
                         session_ref="def456", detail="(tag:building:5 AND tag:health:red)")
    db_session.commit()


def test_admin_page_lists_newest_first_with_filters_and_pages(client, db_session, ward):
    _seed_log(db_session, ward, 60)
    assert login(client, "boss").status_code == 303
    assert "/console/clinic/access-log" in client.get("/console/").get_data(as_text=True)  # in the menu
    page = client.get("/console/clinic/access-log").get_data(as_text=True)
    newest = _log()[-1]
    assert "共 61 条" in page and "第 1 / 2 页" in page
    assert page.index(f'id="access-{newest.id}"') < page.index(f'id="access-{newest.id - 1}"')
    assert "群发预览" in page and "10.0.0.7" in page and "def456" in page and "tag:health:red" in page
    second = client.get("/console/clinic/access-log?page=2").get_data(as_text=True)
    assert second.count('<tr id="access-') == 11
    previews = client.get("/console/clinic/access-log?purpose=campaign_preview").get_data(as_text=True)
    assert "共 1 条" in previews and f'id="access-{newest.id}"' in previews
    files = client.get("/console/clinic/access-log?purpose=resident_file").get_data(as_text=True)
    assert "共 30 条" in files and "王阿姨" in files
    by_clerk = client.get(f"/console/clinic/access-log?staff={ward['clerk'].id}").get_data(as_text=True)
    assert "共 0 条" in by_clerk
    by_chen = client.get(f"/console/clinic/access-log?staff={ward['chen'].id}").get_data(as_text=True)
    assert "共 61 条" in by_chen


@pytest.mark.parametrize("username", ["dr_chen", "clerk"])
def test_only_admins_read_the_log(client, ward, username):
    assert login(client, username).status_code == 303
    assert client.get("/console/clinic/access-log").status_code == 403
    assert "/console/clinic/access-log" not in client.get("/console/").get_data(as_text=True)


def test_other_communities_rows_stay_out(client, db_session, ward, make_community, make_staff):
    elsewhere = make_community()
    far = make_staff("doctor", username="dr_far", community=elsewhere)
    far_admin = make_staff("admin", username="far_boss", community=elsewhere)
    _seed_log(db_session, ward, 2)
    clinic.record_access(db_session, far, action="count", purpose="campaign_count", detail="health:red")
    db_session.commit()
    assert login(client, far_admin.username).status_code == 303
    page = client.get("/console/clinic/access-log").get_data(as_text=True)
    assert "共 1 条" in page and "王阿姨" not in page
