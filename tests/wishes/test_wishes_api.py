"""/api/v1 wishes: every route, each role (bound resident, unbound user, another community), and racing supports."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from app.community.models import Community
from app.core.db import db
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes.models import FacilityItem, Wish, WishFollower, WishSupport


def _create(client, headers, **body):
    response = client.post("/api/v1/wishes", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_catalogue_follows_the_community_kind_and_shows_ratings(client, wang, make_community, make_resident,
                                                                db_session, login):
    items = client.get("/api/v1/wishes/catalogue", headers=wang).get_json()["items"]
    names = [i["name"] for i in items]
    assert "楼道扶手" in names and "老年食堂" in names and "共享自习室" not in names
    printer = next(i for i in items if i["name"] == "自助打印机")
    assert printer["rating"] is None and printer["rating_count"] == 0 and printer["typical_space"]
    youth = make_community("青年汇", kind="youth_complex")
    make_resident("1", "1", "101", wxa_openid="wxa_young", community=youth)
    db_session.commit()
    young = client.get("/api/v1/wishes/catalogue", headers=login("young")).get_json()["items"]
    assert "共享自习室" in [i["name"] for i in young] and "楼道扶手" not in [i["name"] for i in young]
    detail = client.get(f"/api/v1/wishes/catalogue/{printer['id']}", headers=wang).get_json()
    assert detail["item"]["name"] == "自助打印机" and detail["reviews"] == [] and detail["my_rating"] is None
    other = client.get(f"/api/v1/wishes/catalogue/{young[0]['id']}", headers=wang)
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "item_not_found"


def test_create_from_catalogue_or_words_detail_and_lists(client, wang):
    items = client.get("/api/v1/wishes/catalogue", headers=wang).get_json()["items"]
    bench = next(i for i in items if i["name"] == "长椅")
    made = _create(client, wang, item_id=bench["id"], description="北门花园里没地方坐")
    assert made["title"] == "长椅" and made["item"]["id"] == bench["id"] and made["supports"] == 1
    assert made["supported"] and made["following"] and made["mine"] and made["can_unsupport"]
    assert made["status"] == "collecting" and made["threshold"] == 20
    words = _create(client, wang, title="希望装个打印机")  # words that name a menu item are mapped to it
    assert words["item"]["name"] == "自助打印机"
    free = _create(client, wang, title="屋顶光伏发电", building="3")
    assert free["item"] is None and free["building"] == "3"
    listed = client.get("/api/v1/wishes?status=open", headers=wang).get_json()["wishes"]
    assert [w["id"] for w in listed] == [free["id"], words["id"], made["id"]]
    assert client.get("/api/v1/wishes?status=nonsense", headers=wang).status_code == 422
    mine = client.get("/api/v1/wishes/mine", headers=wang).get_json()["wishes"]
    assert {w["id"] for w in mine} == {made["id"], words["id"], free["id"]}
    detail = client.get(f"/api/v1/wishes/{made['id']}", headers=wang).get_json()
    assert detail["description"] == "北门花园里没地方坐" and detail["timeline"][0]["kind"] == "created"


def test_a_similar_wish_is_offered_before_a_duplicate_is_made(client, wang, zhao):
    first = _create(client, wang, title="自助打印机")
    similar = client.get("/api/v1/wishes/similar", query_string={"title": "打印机"}, headers=zhao).get_json()
    assert [w["id"] for w in similar["wishes"]] == [first["id"]]
    refused = client.post("/api/v1/wishes", json={"title": "小区里放台打印机"}, headers=zhao)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "similar_wishes" and error["details"]["similar"][0]["id"] == first["id"]
    forced = _create(client, zhao, title="小区里放台打印机", force=True)
    assert forced["id"] != first["id"]


def test_bad_bodies_are_422(client, wang):
    assert client.post("/api/v1/wishes", json={}, headers=wang).get_json()["error"]["code"] == "missing_field"
    assert client.post("/api/v1/wishes", json={"title": 5}, headers=wang).status_code == 422
    assert client.post("/api/v1/wishes", json={"item_id": 999999}, headers=wang).status_code == 404
    wish = _create(client, wang, title="篮球场")
    empty = client.post(f"/api/v1/wishes/{wish['id']}/comments", json={"text": "  "}, headers=wang)
    assert empty.status_code == 422


def test_support_once_withdraw_and_comment(client, wang, zhao):
    wish = _create(client, wang, title="篮球场")
    supported = client.post(f"/api/v1/wishes/{wish['id']}/support", headers=zhao).get_json()
    assert supported["supports"] == 2 and supported["supported"] and supported["following"]
    again = client.post(f"/api/v1/wishes/{wish['id']}/support", headers=zhao).get_json()
    assert again["supports"] == 2  # one per resident
    withdrawn = client.delete(f"/api/v1/wishes/{wish['id']}/support", headers=zhao).get_json()
    assert withdrawn["supports"] == 1 and not withdrawn["supported"] and not withdrawn["following"]
    commented = client.post(f"/api/v1/wishes/{wish['id']}/comments", json={"text": "晚上要有灯"}, headers=zhao)
    assert commented.status_code == 201 and commented.get_json()["comments"][0]["author"] == "赵邻居"
    followed = client.post(f"/api/v1/wishes/{wish['id']}/follow", headers=zhao).get_json()
    assert followed["following"] and not followed["supported"]
    assert not client.delete(f"/api/v1/wishes/{wish['id']}/follow", headers=zhao).get_json()["following"]


def test_reaching_the_threshold_starts_review_and_withdrawal_is_refused(client, wang, zhao, community, db_session,
                                                                        run_jobs):
    wishes.set_threshold(db_session, community.id, mode="absolute", value=2)
    db_session.commit()
    wish = _create(client, wang, title="篮球场")
    reviewed = client.post(f"/api/v1/wishes/{wish['id']}/support", headers=zhao).get_json()
    assert reviewed["status"] == "under_review" and reviewed["supports"] == 2 and not reviewed["can_unsupport"]
    refused = client.delete(f"/api/v1/wishes/{wish['id']}/support", headers=zhao)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "threshold_reached"
    db.session.expire_all()
    assert db.session.get(Wish, wish["id"]).supports_count == 2
    run_jobs()
    kinds = [e["kind"] for e in client.get(f"/api/v1/wishes/{wish['id']}", headers=wang).get_json()["timeline"]]
    assert kinds == ["created", "under_review", "alerted"]


def test_rankings_for_the_community_and_one_building(client, wang, zhao, make_resident, db_session, login,
                                                     community):
    make_resident("5", "1", "102", wxa_openid="wxa_qian", community=community)
    db_session.commit()
    qian = login("qian")
    court = _create(client, wang, title="篮球场")
    lift = _create(client, zhao, title="加装电梯", building="5")
    client.post(f"/api/v1/wishes/{lift['id']}/support", headers=qian)
    client.post(f"/api/v1/wishes/{court['id']}/support", headers=qian)
    everyone = client.get("/api/v1/wishes/rankings", headers=wang).get_json()["ranking"]
    assert [(w["id"], w["count"]) for w in everyone] == [(lift["id"], 2), (court["id"], 2)] or \
        [(w["id"], w["count"]) for w in everyone] == [(court["id"], 2), (lift["id"], 2)]
    five = client.get("/api/v1/wishes/rankings?building=5", headers=wang).get_json()["ranking"]
    assert [(w["id"], w["count"]) for w in five] == [(lift["id"], 2), (court["id"], 1)]
    three = client.get("/api/v1/wishes/rankings?building=3", headers=wang).get_json()["ranking"]
    assert [(w["id"], w["count"]) for w in three] == [(court["id"], 1)]


def test_rating_only_built_facilities_once_per_resident_and_editable(client, wang, zhao, committee, db_session):
    wish = _create(client, wang, title="长椅")
    item_id = wish["item"]["id"]
    early = client.post(f"/api/v1/wishes/catalogue/{item_id}/rating", json={"stars": 5}, headers=wang)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_built"
    wish_review.accept(db_session, wish["id"], committee)
    wish_review.complete(db_session, wish["id"], committee, note="北门花园新增6张长椅")
    db_session.commit()
    rated = client.post(f"/api/v1/wishes/catalogue/{item_id}/rating", json={"stars": 4, "text": "很舒服"},
                        headers=wang).get_json()
    assert (rated["rating"], rated["rating_count"], rated["built"]) == (4.0, 1, True)
    client.post(f"/api/v1/wishes/catalogue/{item_id}/rating", json={"stars": 2}, headers=zhao)
    edited = client.post(f"/api/v1/wishes/catalogue/{item_id}/rating", json={"stars": 5, "text": "改成五星"},
                         headers=wang).get_json()
    assert (edited["rating"], edited["rating_count"]) == (3.5, 2)
    catalogue = client.get("/api/v1/wishes/catalogue", headers=wang).get_json()["items"]
    assert next(i for i in catalogue if i["id"] == item_id)["rating"] == 3.5
    detail = client.get(f"/api/v1/wishes/catalogue/{item_id}", headers=wang).get_json()
    assert detail["my_rating"] == {"stars": 5, "text": "改成五星"} and len(detail["reviews"]) == 2
    bad = client.post(f"/api/v1/wishes/catalogue/{item_id}/rating", json={"stars": 6}, headers=wang)
    assert bad.status_code == 422


def test_completing_a_free_text_wish_puts_it_on_the_menu_for_rating(client, wang, committee, db_session):
    wish = _create(client, wang, title="屋顶光伏发电")
    wish_review.accept(db_session, wish["id"], committee)
    wish_review.complete(db_session, wish["id"], committee)
    db_session.commit()
    detail = client.get(f"/api/v1/wishes/{wish['id']}", headers=wang).get_json()
    assert detail["status"] == "completed" and detail["item"]["name"] == "屋顶光伏发电" and detail["item"]["built"]


def test_unbound_users_and_other_communities_are_refused(client, wang, login, make_resident, make_community,
                                                         db_session):
    wish = _create(client, wang, title="篮球场")
    stranger = login("nobody")
    for method, path in (("get", "/api/v1/wishes"), ("get", "/api/v1/wishes/catalogue"),
                         ("post", f"/api/v1/wishes/{wish['id']}/support")):
        response = getattr(client, method)(path, headers=stranger)
        assert response.status_code == 403, path
    assert client.get("/api/v1/wishes").status_code == 401
    elsewhere = make_community("别的小区")
    make_resident("1", "1", "101", wxa_openid="wxa_far", community=elsewhere)
    db_session.commit()
    far = login("far")
    for method, path in (("get", f"/api/v1/wishes/{wish['id']}"), ("post", f"/api/v1/wishes/{wish['id']}/support"),
                         ("post", f"/api/v1/wishes/{wish['id']}/follow")):
        response = getattr(client, method)(path, headers=far)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "wish_not_found", path
    assert client.get("/api/v1/wishes", headers=far).get_json()["wishes"] == []


def test_a_residents_racing_supports_are_counted_once(app, client, wang, zhao, db_session):
    """On PostgreSQL the requests run at once in threads; SQLite (one shared connection) takes them in turn."""
    wish = _create(client, wang, title="篮球场")
    path = f"/api/v1/wishes/{wish['id']}/support"
    statuses: list[int] = []
    concurrent = db.engine.dialect.name == "postgresql"
    barrier = threading.Barrier(8 if concurrent else 1)

    def hit() -> None:
        barrier.wait(timeout=10)
        with app.test_client() as own:
            statuses.append(own.post(path, headers=zhao).status_code)

    if concurrent:
        threads = [threading.Thread(target=hit) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        for _ in range(8):
            hit()
    assert statuses == [200] * 8
    db.session.expire_all()
    assert db.session.get(Wish, wish["id"]).supports_count == 2
    assert db.session.scalar(select(func.count()).select_from(WishSupport)
                             .where(WishSupport.wish_id == wish["id"])) == 2
    assert db.session.scalar(select(func.count()).select_from(WishFollower)
                             .where(WishFollower.wish_id == wish["id"])) == 2


def test_the_catalogue_is_seeded_once(client, wang, db_session):
    client.get("/api/v1/wishes/catalogue", headers=wang)
    client.get("/api/v1/wishes/catalogue", headers=wang)
    community = db_session.scalar(select(Community).where(Community.name == "和睦新村"))
    count = db_session.scalar(select(func.count()).select_from(FacilityItem)
                              .where(FacilityItem.community_id == community.id))
    assert count == 9


def test_many_neighbours_racing_past_the_threshold_start_one_review(app, client, wang, community, make_resident,
                                                                    db_session, login):
    """Eight residents support at once (threads on PostgreSQL): all counted, review starts and alerts once."""
    from app.core.outbox_job import OutboxJob
    from app.wishes.models import WishEvent

    wishes.set_threshold(db_session, community.id, mode="absolute", value=5)
    for n in range(8):
        make_resident("7", "1", f"{n + 1}01", wxa_openid=f"wxa_n{n}", community=community)
    db_session.commit()
    headers = [login(f"n{n}") for n in range(8)]
    wish = _create(client, wang, title="篮球场")
    path = f"/api/v1/wishes/{wish['id']}/support"
    concurrent = db.engine.dialect.name == "postgresql"
    barrier = threading.Barrier(8 if concurrent else 1)
    statuses: list[int] = []

    def hit(h: dict) -> None:
        barrier.wait(timeout=10)
        with app.test_client() as own:
            statuses.append(own.post(path, headers=h).status_code)

    if concurrent:
        threads = [threading.Thread(target=hit, args=(h,)) for h in headers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        for h in headers:
            hit(h)
    assert statuses == [200] * 8
    db.session.expire_all()
    current = db.session.get(Wish, wish["id"])
    assert (current.supports_count, current.status) == (9, "under_review")
    reviews = db.session.scalar(select(func.count()).select_from(WishEvent).where(
        WishEvent.wish_id == wish["id"], WishEvent.kind == "under_review"))
    alerts = db.session.scalar(select(func.count()).select_from(OutboxJob).where(
        OutboxJob.func == "app.wishes.jobs.alert_committee"))
    assert (reviews, alerts) == (1, 1)


def test_milestone_photos_are_shown_to_the_community_only(client, wang, committee, db_session, app, tmp_path,
                                                          make_community, make_resident, login, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    wish = _create(client, wang, title="篮球场")
    (tmp_path / "wishes").mkdir()
    (tmp_path / "wishes" / "m-1.jpg").write_bytes(b"\xff\xd8court")
    wish_review.accept(db_session, wish["id"], committee)
    wish_review.milestone(db_session, wish["id"], committee, percentage=20, note="场地平整",
                          photos=["/api/v1/wish-photos/m-1.jpg"])
    db_session.commit()
    detail = client.get(f"/api/v1/wishes/{wish['id']}", headers=wang).get_json()
    assert detail["status"] == "in_progress" and detail["milestones"][0]["photos"] == ["/api/v1/wish-photos/m-1.jpg"]
    served = client.get("/api/v1/wish-photos/m-1.jpg", headers=wang)
    assert served.data == b"\xff\xd8court"  # a file stored before re-encoding: served as is, typed, never sniffed
    assert served.mimetype == "image/jpeg" and served.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/api/v1/wish-photos/m-2.jpg", headers=wang).status_code == 404
    make_resident("1", "1", "101", wxa_openid="wxa_far", community=make_community("别处"))
    db_session.commit()
    assert client.get("/api/v1/wish-photos/m-1.jpg", headers=login("far")).status_code == 404


def _wish_routes(app) -> list[tuple[str, str]]:
    """Every wish route in the url map, with sample path arguments filled in."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1/wishes", "/api/v1/wish-photos")):
            continue
        path = re.sub(r"<(?:int|id)\b[^>]*>", "1", rule.rule)  # <id:wish_id>: the API's row id converter
        path = re.sub(r"<[^>]+>", "x.jpg", path)
        routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_every_wish_route_refuses_strangers_and_unbound_users(client, app, login, community):
    routes = _wish_routes(app)
    assert len(routes) >= 15
    unbound = login("nobody")  # a mini-program user bound to no room
    for method, path in routes:
        anonymous = client.open(path, method=method, json={})
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        assert anonymous.get_json()["error"]["code"].startswith("token_")
        body = {"stars": 5, "text": "希望早点建好", "title": "自助打印机", "force": True,
                "reason": "done"}  # valid for every route (withdraw needs its reason)
        stranger = client.open(path, method=method, json=body, headers=unbound)
        assert stranger.status_code == 403, (method, path, stranger.status_code)
