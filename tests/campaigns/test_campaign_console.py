"""Console campaign pages and the staff JSON API under /console/api/campaigns."""

from __future__ import annotations

from console_forms import csrf_token, login, post

from app.campaigns.models import Campaign
from app.community.tags import refresh_all
from console.csrf import HEADER


def _staff_client(client, make_staff, role="property"):
    staff = make_staff(role)
    assert login(client, staff.username).status_code == 303
    return staff


def test_draft_preview_schedule_progress_cancel_pages(client, db_session, make_resident, make_staff, run_jobs):
    for room in ("101", "102"):
        make_resident("30", "1", room, birth_year=1950, openid=f"oa_{room}")
    make_resident("31", "1", "101", birth_year=1950, openid="oa_x")
    _staff_client(client, make_staff)
    from app.community.models import Resident
    refresh_all(db_session, db_session.query(Resident).first().community_id)
    db_session.commit()
    page = post(client, "/console/campaigns/new", {"action": "preview", "title": "体检", "body": "{name}您好",
                                                    "audience": "building:30 AND age>=60"})
    assert page.status_code == 200 and 'id="preview-count">2<' in page.get_data(as_text=True)
    bad = post(client, "/console/campaigns/new", {"action": "preview", "title": "体检", "body": "x",
                                                   "audience": "building:30 AND"})
    assert bad.status_code == 422 and "第 16 个字符" in bad.get_data(as_text=True)
    saved = post(client, "/console/campaigns/new", {"action": "save", "title": "体检", "body": "{name}您好，周六体检",
                                                     "audience": "building:30 AND age>=60", "category": "health",
                                                     "template": "notice", "urgent": "1"})
    assert saved.status_code == 303
    campaign_id = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    show = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'id="audience-size">2<' in show
    assert post(client, f"/console/campaigns/{campaign_id}/schedule", {"at": ""}).status_code == 303
    run_jobs()
    show = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)
    assert "已发送 <b>2</b> / 2" in show
    listing = client.get("/console/campaigns").get_data(as_text=True)
    assert f'id="campaign-{campaign_id}"' in listing and "2 / 2" in listing
    assert post(client, f"/console/campaigns/{campaign_id}/cancel").status_code == 303  # flash: already sent
    db_session.expire_all()
    assert db_session.get(Campaign, campaign_id).status == "sent"


def test_json_api(client, db_session, make_resident, make_staff):
    make_resident("30", "1", "101", birth_year=1950, openid="oa_1")
    _staff_client(client, make_staff, "admin")
    headers = {HEADER: csrf_token(client)}
    r = client.post("/console/api/campaigns/preview", json={"audience": "age>=60"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["count"] == 1
    r = client.post("/console/api/campaigns/preview", json={"audience": "age>="}, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"]["details"] == {"position": 5}
    r = client.post("/console/api/campaigns", json={"title": "通知", "body": "{name}好", "audience": "age>=60"},
                    headers=headers)
    assert r.status_code == 201
    cid = r.get_json()["id"]
    r = client.post(f"/console/api/campaigns/{cid}/cancel", json={}, headers=headers)
    assert r.get_json()["status"] == "cancelled"
    r = client.post(f"/console/api/campaigns/{cid}/cancel", json={}, headers=headers)
    assert r.status_code == 409
    r = client.post(f"/console/api/campaigns/{cid}/schedule", json={}, headers=headers)
    assert r.status_code == 409
    assert client.get(f"/console/api/campaigns/{cid}").get_json()["progress"]["total"] == 0
    assert [c["id"] for c in client.get("/console/api/campaigns").get_json()["campaigns"]] == [cid]
    assert client.post("/console/api/campaigns", json={"title": "x"}).status_code == 400  # no CSRF token
    assert client.get("/console/api/campaigns/999999").status_code == 404


def test_roles_without_campaigns_get_403(client, make_staff):
    _staff_client(client, make_staff, "repair_worker")
    assert client.get("/console/api/campaigns").status_code == 403
