"""Merchants: the directory and its hours, merchant_query in chat, coupons (stock, per-resident limit), the
short-lived code redeemed once on the merchant's token page, revoking the link, settlement XLSX, console."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from console_forms import login, post
from openpyxl import load_workbook
from sqlalchemy import select

from app.core.clock import SHANGHAI, local_now
from app.core.db import db
from app.core.errors import AppError
from app.merchants import coupons, directory
from app.merchants.demo import DEMO_MERCHANTS, seed_merchants
from app.merchants.models import CouponClaim, Merchant


def _shop(session, community_id, name="老张修鞋", kind="修鞋", walk=2, opens="08:00", closes="18:00", rest=None):
    return directory.add_merchant(session, community_id, name=name, kind=kind, keywords=["配钥匙"], address="东门外",
                                  walk_minutes=walk, opens=opens, closes=closes, rest_weekday=rest, phone="0571-1")


@pytest.fixture
def wang(make_resident, db_session):
    resident = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang", wxa_openid="wxa_wang")
    db_session.commit()
    return resident


def test_hours_open_now_and_next_opening(db_session, wang):
    m = _shop(db_session, wang.community_id, rest=0)
    today = local_now().replace(hour=10, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    assert directory.is_open(m, monday + timedelta(days=1)) and not directory.is_open(m, monday)
    evening = (monday + timedelta(days=1)).replace(hour=19)
    assert directory.next_opening(m, evening) == (monday + timedelta(days=2)).replace(hour=8)
    night = _shop(db_session, wang.community_id, name="夜宵", kind="小吃", opens="18:00", closes="02:00")
    assert directory.is_open(night, monday.replace(hour=1)) and not directory.is_open(night, monday.replace(hour=3))
    always = _shop(db_session, wang.community_id, name="便利店", kind="便利店", opens="00:00", closes="00:00")
    assert directory.hours_label(always) == "24小时营业" and directory.is_open(always, monday.replace(hour=3))


def test_chat_nearest_open_ones_or_when_they_open(wx, db_session, wang, clock):
    _shop(db_session, wang.community_id, name="鞋匠王师傅", walk=6)
    _shop(db_session, wang.community_id, name="老张修鞋", walk=2)
    db_session.commit()
    clock.at(10, 0)
    reply = wx.say("o_wang", "附近有修鞋的吗")
    assert "现在营业" in reply and reply.index("老张修鞋") < reply.index("鞋匠王师傅") and "08:00–18:00" in reply
    clock.at(21, 0)
    late = wx.say("o_wang", "附近有修鞋的吗")
    assert "现在都没有营业" in late and "明天 08:00" in late
    assert "暂时没有" in wx.say("o_wang", "附近有理发店吗")


def test_claim_stock_limit_code_and_redeem_once(db_session, wang, make_resident, clock):
    m = _shop(db_session, wang.community_id)
    c = coupons.add_coupon(db_session, m, title="修鞋减3元", value_cents=300, stock=2, per_resident=1)
    li, zhao = make_resident("5", "1", "101", name="李"), make_resident("6", "1", "101", name="赵")
    claim = coupons.claim(db_session, wang, c.id)
    with pytest.raises(AppError) as limit:
        coupons.claim(db_session, wang, c.id)
    assert limit.value.code == "coupon_limit"
    coupons.claim(db_session, li, c.id)
    with pytest.raises(AppError) as out:
        coupons.claim(db_session, zhao, c.id)
    assert out.value.code == "coupon_out_of_stock"
    coupons.show_code(db_session, claim)
    assert len(claim.code) == 6 and claim.code.isdigit()
    clock.shift(timedelta(minutes=11))
    with pytest.raises(AppError) as expired:
        coupons.redeem(db_session, m, claim.code)
    assert expired.value.code == "code_expired"
    coupons.show_code(db_session, claim)
    assert coupons.redeem(db_session, m, claim.code).status == "redeemed"
    with pytest.raises(AppError) as twice:
        coupons.redeem(db_session, m, claim.code)
    assert twice.value.code == "already_redeemed"


def test_api_directory_claim_and_code(client, login, db_session, wang):
    m = _shop(db_session, wang.community_id)
    c = coupons.add_coupon(db_session, m, title="修鞋减3元", value_cents=300, stock=5)
    db_session.commit()
    h = login("wang")
    found = client.get("/api/v1/merchants?q=修鞋", headers=h).get_json()["merchants"]
    assert found[0]["name"] == "老张修鞋" and found[0]["coupons"][0]["left"] == 5
    claimed = client.post(f"/api/v1/coupons/{c.id}/claim", headers=h)
    assert claimed.status_code == 201
    assert client.post(f"/api/v1/coupons/{c.id}/claim", headers=h).get_json()["error"]["code"] == "coupon_limit"
    code = client.post(f"/api/v1/coupons/claims/{claimed.get_json()['id']}/code", headers=h).get_json()
    assert len(code["code"]) == 6 and code["code_expires_at"]
    assert client.get("/api/v1/coupons/mine", headers=h).get_json()["claims"][0]["status"] == "issued"


def test_token_page_redeems_once_and_a_revoked_link_stops(client, db_session, wang, make_staff):
    m = _shop(db_session, wang.community_id)
    c = coupons.add_coupon(db_session, m, title="修鞋减3元", value_cents=300, stock=5)
    claim = coupons.show_code(db_session, coupons.claim(db_session, wang, c.id))
    make_staff("admin", username="boss")
    db_session.commit()
    code = claim.code
    login(client, "boss")
    page = post(client, f"/console/merchants/{m.id}/link", follow_redirects=True).get_data(as_text=True)
    link = page.split('id="redeem-link">')[1].split("<")[0].strip()
    path = link[link.index("/shop/"):]
    shop = client.application.test_client()  # the merchant: no console login
    assert shop.get(path).status_code == 200
    first = shop.post(path, data={"code": code})
    assert first.status_code == 200 and "核销成功" in first.get_data(as_text=True)
    second = shop.post(path, data={"code": code})
    assert second.status_code == 409 and "已经核销过" in second.get_data(as_text=True)
    post(client, f"/console/merchants/{m.id}/link/revoke")
    assert shop.get(path).status_code == 404


def test_settlement_xlsx_and_console_pages(client, db_session, wang, make_staff):
    seed_merchants(db_session, wang.household.unit.building.community)
    m = db_session.scalar(select(Merchant).where(Merchant.name == "四季鲜果"))
    c = coupons.coupons_of(db_session, m)[0]
    coupons.redeem(db_session, m, coupons.show_code(db_session, coupons.claim(db_session, wang, c.id)).code)
    make_staff("property", username="clerk")
    db_session.commit()
    login(client, "clerk")
    listing = client.get("/console/merchants").get_data(as_text=True)
    assert "四季鲜果" in listing and db_session.query(Merchant).count() == len(DEMO_MERCHANTS) >= 30
    month = local_now().astimezone(SHANGHAI).strftime("%Y-%m")
    xlsx = client.get(f"/console/merchants/settlement.xlsx?month={month}")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    rows = list(book["汇总"].iter_rows(values_only=True))
    assert rows[2][:3] == ("四季鲜果", "满50减8", 1) and rows[2][3] == 8
    assert post(client, f"/console/merchants/{m.id}/licence", {"licence_no": "bad"}).status_code == 303
    post(client, f"/console/merchants/{m.id}/status", {"status": "suspended"})
    db.session.expire_all()
    assert db.session.get(Merchant, m.id).status == "suspended"
    assert db.session.scalar(select(CouponClaim.status)) == "redeemed"
