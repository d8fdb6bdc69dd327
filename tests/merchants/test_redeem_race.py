"""Coupons under parallel races on PostgreSQL: one code redeemed by 20 requests at once succeeds once; 40
residents claiming a 10-coupon stock get exactly 10."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.merchants import coupons, directory
from app.merchants.models import Coupon, CouponClaim

IN_FLIGHT = 12


def _race(n: int, call) -> list[int]:
    gate, barrier, codes = threading.Semaphore(IN_FLIGHT), threading.Barrier(n), []

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        with gate:
            codes.append(call(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(codes) == n, "a request hung"
    return codes


@pytest.mark.postgres
def test_a_code_is_redeemed_once_under_a_parallel_race(app, db_session, make_resident, make_staff):
    wang = make_resident("3", "2", "1201", name="王阿姨")
    m = directory.add_merchant(db_session, wang.community_id, name="四季鲜果", kind="水果店", address="东门",
                               walk_minutes=2, opens="00:00", closes="00:00", rest_weekday=None)
    c = coupons.add_coupon(db_session, m, title="满50减8", value_cents=800, stock=10)
    claim = coupons.show_code(db_session, coupons.claim(db_session, wang, c.id))
    token = directory.issue_token(db_session, m)
    db_session.commit()
    code, claim_id = claim.code, claim.id
    got = Counter(_race(20, lambda _i: app.test_client().post(f"/shop/redeem/{token}", data={"code": code})
                        .status_code))
    assert got == {200: 1, 409: 19}, got
    db.session.expire_all()
    assert db.session.get(CouponClaim, claim_id).status == "redeemed"


@pytest.mark.postgres
def test_stock_holds_when_forty_residents_claim_at_once(app, db_session, make_resident, login):
    people = [make_resident("1", "1", f"{100 + i}", wxa_openid=f"wxa_c{i}") for i in range(40)]
    m = directory.add_merchant(db_session, people[0].community_id, name="联华超市", kind="超市", address="运河路",
                               walk_minutes=8, opens="07:00", closes="21:00", rest_weekday=None)
    c = coupons.add_coupon(db_session, m, title="满100减10", value_cents=1000, stock=10)
    db_session.commit()
    coupon_id = c.id
    headers = [login(f"c{i}") for i in range(40)]
    got = Counter(_race(40, lambda i: app.test_client().post(f"/api/v1/coupons/{coupon_id}/claim",
                                                             headers=headers[i]).status_code))
    assert got == {201: 10, 409: 30}, got
    db.session.expire_all()
    assert db.session.get(Coupon, coupon_id).claimed == 10
    assert db.session.scalar(select(func.count()).select_from(CouponClaim)) == 10
