"""Welfare in the console: the coloured watch list, open checks and the building summary within the staff
member's buildings, every look written to the access log, consent and modes edited, the visit outcome with a
photo; other roles and other buildings refused."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from console_forms import login, post
from PIL import Image
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.clinic.models import HealthAccessLog
from app.core.clock import local_now
from app.core.db import db
from app.welfare.models import WelfareCheck, WelfareWatch


@pytest.fixture
def signed_in(client, world, db_session):
    def sign_in(staff):
        staff.password_hash = generate_password_hash("right-password")
        db_session.commit()
        assert login(client, staff.username, "right-password").status_code == 303

    return sign_in


def _log() -> list[HealthAccessLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(HealthAccessLog).order_by(HealthAccessLog.id)))


def _png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    out.seek(0)
    return out


def test_the_list_is_coloured_scoped_and_every_look_is_logged(client, world, signed_in, clock):
    clock.move_to(world.reload().due_at - timedelta(hours=10))  # past half of 72 hours: yellow
    signed_in(world.steward)
    html = client.get("/console/welfare").get_data(as_text=True)
    assert f'id="watch-{world.watch.id}" class="wf-row-yellow"' in html and "王秀英" in html
    assert 'id="building-3"' in html
    clock.shift(timedelta(hours=11))
    world.sweep()
    html = client.get("/console/welfare").get_data(as_text=True)
    assert 'class="wf-row-red"' in html and "我去探访" in html and "门锁开门：登记以来没有记录" in html
    page = client.get(f"/console/welfare/{world.watch.id}").get_data(as_text=True)
    assert "本人 王秀英" in page and "13900000001" in page
    log = _log()
    assert [(e.action, e.purpose, e.staff_id) for e in log] == [
        ("list", "welfare_list", world.steward.id), ("list", "welfare_list", world.steward.id),
        ("view", "welfare_resident", world.steward.id)]
    assert log[2].resident_id == world.resident.id and log[2].session_ref


def test_another_buildings_steward_sees_nothing_and_is_logged_refused(client, world, signed_in):
    signed_in(world.other_steward)
    html = client.get("/console/welfare").get_data(as_text=True)
    assert "王秀英" not in html
    assert client.get(f"/console/welfare/{world.watch.id}").status_code == 403
    assert [(e.action, e.resident_id) for e in _log()][-1] == ("refused", world.resident.id)


@pytest.mark.parametrize("role", ["property", "repair_worker", "doctor", "committee"])
def test_other_roles_are_refused(client, world, make_staff, signed_in, role):
    staff = make_staff(role, community=world.resident.household.unit.building.community)
    signed_in(staff)
    assert client.get("/console/welfare").status_code == 403
    assert client.get(f"/console/welfare/{world.watch.id}").status_code == 403


def test_steward_visits_and_records_the_outcome_with_a_photo(client, world, signed_in, clock):
    clock.move_to(world.reload().due_at + timedelta(minutes=1))
    world.sweep()
    check = db.session.scalar(select(WelfareCheck))
    signed_in(world.steward)
    assert post(client, f"/console/welfare/checks/{check.id}/visit").status_code == 303
    assert world.reload().mode == "visit"
    data = {"outcome": "safe", "note": "老人在家午睡，门锁电池正常", "photo": (_png(), "visit.png", "image/png")}
    response = post(client, f"/console/welfare/checks/{check.id}/outcome", data, content_type="multipart/form-data")
    assert response.status_code == 303
    db.session.expire_all()
    check = db.session.get(WelfareCheck, check.id)
    assert (check.status, check.outcome, check.outcome_note) == ("closed", "safe", "老人在家午睡，门锁电池正常")
    assert check.photo and world.reload().false_alarms == 1 and world.reload().mode == "normal"
    photo = client.get(f"/console/welfare/photos/{check.id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert _log()[-1].purpose == "welfare_photo"


def test_grid_worker_reads_but_does_not_edit(client, world, signed_in):
    signed_in(world.grid)
    assert client.get("/console/welfare").status_code == 200
    assert post(client, f"/console/welfare/{world.watch.id}", {"threshold_hours": "48"}).status_code == 403


def test_consent_threshold_and_mode_are_edited_in_the_console(client, world, signed_in, make_resident, db_session):
    community = world.resident.household.unit.building.community
    new = make_resident("2", "1", "101", name="钱阿婆", phone="13800009999", community=community)
    db_session.commit()
    signed_in(world.steward)
    form = {"phone": "13800009999", "consent_by": "钱小军", "relation": "family", "consent_phone": "13800008888",
            "family_name": "钱小军", "family_phone": "13800008888", "risk": "high", "threshold_hours": ""}
    assert post(client, "/console/welfare", form).status_code == 303
    db.session.expire_all()
    watch = db.session.scalar(select(WelfareWatch).where(WelfareWatch.resident_id == new.id))
    assert (watch.consent_by, watch.consent_relation, watch.threshold_hours, watch.consent_recorded_by_id) == (
        "钱小军", "family", 48, world.steward.id)
    assert post(client, f"/console/welfare/{watch.id}", {"threshold_hours": "36", "risk": "high", "signals_sent": "1",
                                                          "signals": ["door_lock", "checkin"]}).status_code == 303
    until = (local_now().date() + timedelta(days=3)).isoformat()
    assert post(client, f"/console/welfare/{watch.id}/mode", {"mode": "hospital", "until": until}).status_code == 303
    db.session.expire_all()
    watch = db.session.get(WelfareWatch, watch.id)
    assert (watch.threshold_hours, watch.signals, watch.mode) == (36, ["door_lock", "checkin"], "hospital")
    assert post(client, f"/console/welfare/{watch.id}", {"threshold_hours": "abc"}).status_code == 303  # refused
    db.session.expire_all()
    assert db.session.get(WelfareWatch, watch.id).threshold_hours == 36
    assert client.post("/console/welfare", data=form).status_code == 400  # no CSRF token
    far = make_resident("9", "1", "901", name="孙大爷", phone="13800007777", community=community)
    db_session.commit()
    assert post(client, "/console/welfare", {**form, "phone": "13800007777"}).status_code == 303
    assert db.session.scalar(select(WelfareWatch).where(WelfareWatch.resident_id == far.id)) is None  # not hers
