"""Console wishes: roles, the review queue, decisions and milestones by form and JSON (CSRF), catalogue, thresholds."""

from __future__ import annotations

import io

import pytest
from console_forms import csrf_token, login, post
from PIL import Image
from sqlalchemy import select

from app.core.db import db
from app.wishes import wishes
from app.wishes.models import FacilityItem, Wish, WishThreshold


@pytest.fixture
def wish(db_session, make_resident):
    resident = make_resident("3", "1", "101", name="王阿姨", openid="o_wang")
    made = wishes.create_wish(db_session, resident, title="自助打印机", description="打印作业不方便")
    wishes.set_threshold(db_session, resident.community_id, mode="absolute", value=1)
    db_session.commit()
    return made


@pytest.fixture
def signed_in(client, make_staff, db_session):
    def sign_in(role="committee", community=None):
        staff = make_staff(role, password="right-password", community=community)
        db_session.commit()
        client.get("/console/logout")
        assert login(client, staff.username, "right-password").status_code == 303
        return staff

    return sign_in


def _reload(wish_id: int) -> Wish:
    db.session.expire_all()
    return db.session.get(Wish, wish_id)


def test_only_committee_and_admin_see_wishes(client, wish, signed_in):
    signed_in("property")
    assert client.get("/console/wishes").status_code == 403
    assert post(client, f"/console/wishes/{wish.id}/accept").status_code == 403
    signed_in("admin")
    assert client.get("/console/wishes?status=collecting").status_code == 200
    signed_in("committee")
    page = client.get("/console/wishes?status=collecting").get_data(as_text=True)
    assert f'id="wish-{wish.id}"' in page and "1/20人支持" in page and "心愿" in page


def test_review_accept_milestone_with_photo_and_complete_by_form(client, wish, signed_in, app, tmp_path, run_jobs,
                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    signed_in()
    assert post(client, f"/console/wishes/{wish.id}/review").status_code == 303
    queue = client.get("/console/wishes").get_data(as_text=True)
    assert f'id="wish-{wish.id}"' in queue  # under review is the default tab
    no_reason = post(client, f"/console/wishes/{wish.id}/reject", {"reason": ""}, follow_redirects=True)
    assert "请填写不采纳的原因" in no_reason.get_data(as_text=True) and _reload(wish.id).status == "under_review"
    accepted = post(client, f"/console/wishes/{wish.id}/accept", {"note": "下月安装"}, follow_redirects=True)
    assert "已采纳，已通知关注的住户" in accepted.get_data(as_text=True)
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 6), "green").save(jpeg, "JPEG")
    form = {"percentage": "30", "note": "场地已确定", "photos": (io.BytesIO(jpeg.getvalue()), "site.jpg", "image/jpeg")}
    assert post(client, f"/console/wishes/{wish.id}/milestone", form,
                content_type="multipart/form-data").status_code == 303
    current = _reload(wish.id)
    assert current.status == "in_progress" and current.progress == 30
    [photo] = current.milestones[0].photos
    name = photo.rsplit("/", 1)[1]
    served = client.get(f"/console/wish-photos/{name}")
    assert served.mimetype == "image/jpeg" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
    assert client.get("/console/wish-photos/nothing.jpg").status_code == 404
    bad = post(client, f"/console/wishes/{wish.id}/milestone", {"percentage": "abc", "note": "x"},
               follow_redirects=True)
    assert "进度请填 0 到 100" in bad.get_data(as_text=True)
    post(client, f"/console/wishes/{wish.id}/complete", {"note": "已启用"})
    page = client.get(f"/console/wishes/{wish.id}").get_data(as_text=True)
    assert "已建成" in page and "场地已确定" in page
    assert db.session.get(FacilityItem, _reload(wish.id).item_id).built
    run_jobs()


def test_merge_and_comment_by_form(client, wish, signed_in, make_resident, db_session):
    other = wishes.create_wish(db_session, make_resident("5", "1", "101"), title="打印复印")
    db_session.commit()
    signed_in()
    page = client.get(f"/console/wishes/{other.id}").get_data(as_text=True)
    assert f'value="{wish.id}"' in page
    post(client, f"/console/wishes/{other.id}/merge", {"into": str(wish.id), "reason": "同一件事"})
    assert _reload(other.id).status == "merged" and _reload(wish.id).supports_count == 2
    post(client, f"/console/wishes/{wish.id}/comment", {"text": "业委会会尽快讨论"})
    assert "李师傅（业委会）：业委会会尽快讨论" in client.get(f"/console/wishes/{wish.id}").get_data(as_text=True)


def test_json_api_needs_csrf_and_stays_in_the_community(client, wish, signed_in, make_community):
    signed_in()
    listed = client.get("/console/api/wishes?status=open").get_json()["wishes"]
    assert [w["id"] for w in listed] == [wish.id]
    assert client.get("/console/api/wishes?status=bogus").status_code == 422
    no_csrf = client.post(f"/console/api/wishes/{wish.id}/accept", json={})
    assert (no_csrf.status_code, no_csrf.get_json()["error"]["code"]) == (400, "csrf_failed")
    ok = client.post(f"/console/api/wishes/{wish.id}/accept", json={"note": "好"},
                     headers={"X-CSRF-Token": csrf_token(client)})
    assert ok.status_code == 200 and ok.get_json()["status"] == "accepted"
    step = client.post(f"/console/api/wishes/{wish.id}/milestone", json={"percentage": 50, "note": "施工中"},
                       headers={"X-CSRF-Token": csrf_token(client)})
    assert step.get_json()["progress"] == 50
    wrong = client.post(f"/console/api/wishes/{wish.id}/accept", json={},
                        headers={"X-CSRF-Token": csrf_token(client)})
    assert wrong.status_code == 409 and wrong.get_json()["error"]["code"] == "bad_status"
    signed_in(community=make_community("别处"))
    assert client.get(f"/console/wishes/{wish.id}").status_code == 404
    assert client.get("/console/api/wishes?status=all").get_json()["wishes"] == []


def test_catalogue_and_threshold_pages(client, wish, signed_in):
    signed_in()
    page = client.get("/console/wishes/catalogue").get_data(as_text=True)
    assert "自助打印机" in page and "社区图书角" in page and 'id="default-threshold">1<' in page
    post(client, "/console/wishes/catalogue",
         {"name": "自动售货机", "aliases": "售货机，贩卖机", "typical_cost": "免费投放"})
    item = db.session.scalar(select(FacilityItem).where(FacilityItem.name == "自动售货机"))
    assert item.aliases == ["售货机", "贩卖机"] and item.typical_cost == "免费投放" and item.active
    post(client, "/console/wishes/catalogue", {"item_id": str(item.id), "name": "自动售货机", "active": "0",
                                               "built": "1"})
    db.session.expire_all()
    assert not item.active and item.built
    duplicate = post(client, "/console/wishes/catalogue", {"name": "自动售货机"}, follow_redirects=True)
    assert "目录里已经有这个设施了" in duplicate.get_data(as_text=True)
    post(client, "/console/wishes/threshold", {"mode": "share", "value": "0.05", "building": "3"})
    rule = db.session.scalar(select(WishThreshold).where(WishThreshold.building == "3"))
    assert (rule.mode, rule.value) == ("share", 0.05)
    bad = post(client, "/console/wishes/threshold", {"mode": "absolute", "value": "abc"}, follow_redirects=True)
    assert "请填写门槛数值" in bad.get_data(as_text=True)
