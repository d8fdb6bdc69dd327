"""The wish lifecycle: thresholds, review, decisions, merges, milestones, completion; followers and committee told."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.notify.models import Notification
from app.notify.notify import set_preferences
from app.wishes import catalogue as wish_catalogue
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes.models import FacilityItem, Wish, WishFollower, WishSupport


@pytest.fixture
def people(make_resident, make_community, db_session):
    community = make_community("幸福里", kind="standard")
    residents = [make_resident(b, "1", r, name=n, openid=f"o_{i}", community=community)
                 for i, (b, r, n) in enumerate((("3", "101", "王阿姨"), ("3", "102", "李叔叔"), ("5", "201", "张奶奶"),
                                                ("5", "202", "赵大爷")))]
    for resident in residents:  # delivered now whatever the wall clock says (no 22:00–07:00 deferral)
        set_preferences(db_session, resident.id, quiet_hours=False)
    db_session.commit()
    return residents


@pytest.fixture
def committee(make_staff, people, db_session):
    staff = make_staff("committee", community=db_session.get(type(people[0].household.unit.building.community),
                                                               people[0].community_id))
    db_session.commit()
    return staff


def _notes(resident_id: int) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification.text).where(Notification.resident_id == resident_id)
                                   .order_by(Notification.id)))


def test_thresholds_absolute_share_and_per_building(db_session, people):
    cid = people[0].community_id
    assert wishes.threshold_for(db_session, cid) == wishes.DEFAULT_THRESHOLD
    wishes.set_threshold(db_session, cid, mode="absolute", value=3)
    assert wishes.threshold_for(db_session, cid) == 3 and wishes.threshold_for(db_session, cid, "5") == 3
    wishes.set_threshold(db_session, cid, mode="share", value=0.5, building="5")
    assert wishes.households(db_session, cid, "5") == 2
    assert wishes.threshold_for(db_session, cid, "5") == 1  # half of building 5's two households
    wishes.set_threshold(db_session, cid, mode="share", value=0.5)
    assert wishes.threshold_for(db_session, cid) == 2  # half of four households
    wish = wishes.create_wish(db_session, people[2], title="加装电梯", building="5")
    assert wish.threshold == 1 and wish.status == "under_review"  # the author's own support reaches it
    with pytest.raises(ValidationFailed):
        wishes.set_threshold(db_session, cid, mode="share", value=3)
    with pytest.raises(ValidationFailed):
        wishes.set_threshold(db_session, cid, mode="absolute", value=0)


def test_reaching_the_threshold_tells_followers_and_alerts_the_committee_on_wecom(
        app, db_session, people, committee, run_jobs, fake_wechat, monkeypatch):
    for key, value in {"WECOM_CORP_ID": "corp", "WECOM_SECRET": "s", "WECOM_AGENT_ID": "1000002"}.items():
        monkeypatch.setitem(app.config, key, value)
    committee.wecom_userid = "wecom_wang"
    wishes.set_threshold(db_session, people[0].community_id, mode="absolute", value=3)
    wish = wishes.create_wish(db_session, people[0], title="篮球场")
    assert wishes.support(db_session, wish, people[1]) is True
    assert wishes.support(db_session, wish, people[1]) is False  # once per resident
    assert wish.status == "collecting" and wish.supports_count == 2
    wishes.support(db_session, wish, people[2])
    assert wish.status == "under_review" and wish.supports_count == 3 and wish.reviewing_at is not None
    db_session.commit()
    run_jobs()
    for resident in people[:3]:
        assert any("达到门槛，已提交业委会审议" in t for t in _notes(resident.id))
    assert _notes(people[3].id) == []
    [alert] = fake_wechat.sent_messages("wecom")
    assert alert["touser"] == "wecom_wang" and "【心愿待审议】「篮球场」已有3位住户支持" in alert["text"]["content"]
    reached = {m["touser"] for m in fake_wechat.sent_messages("template")}
    assert reached == {"o_0", "o_1", "o_2"}  # outside the 48-hour window, so as template messages
    with pytest.raises(Conflict) as refused:
        wishes.withdraw(db_session, wish, people[1])
    assert refused.value.code == "threshold_reached"


def test_withdrawing_while_collecting_unfollows_a_supporter(db_session, people):
    wish = wishes.create_wish(db_session, people[0], title="篮球场")
    wishes.support(db_session, wish, people[1])
    assert wishes.withdraw(db_session, wish, people[1]) is True
    assert wishes.withdraw(db_session, wish, people[1]) is False
    assert wish.supports_count == 1 and wishes.followers(db_session, wish.id) == [people[0].id]


def test_accept_milestones_complete_and_every_step_is_told(db_session, people, committee, run_jobs):
    wish = wishes.create_wish(db_session, people[0], title="自助打印机",
                              item_id=wish_catalogue.match_item(db_session, people[0].community_id, "打印机").id)
    wishes.support(db_session, wish, people[1])
    wishes.follow(db_session, wish, people[3])  # follows without supporting
    wish_review.accept(db_session, wish.id, committee, note="物业出场地，运营商免费投放")
    with pytest.raises(ValidationFailed):
        wish_review.milestone(db_session, wish.id, committee, percentage=120, note="x")
    wish_review.milestone(db_session, wish.id, committee, percentage=40, note="已选定北门物业大厅", photos=["/x.jpg"])
    assert wish.status == "in_progress" and wish.progress == 40
    wish_review.milestone(db_session, wish.id, committee, percentage=90, note="设备已进场")
    wish_review.complete(db_session, wish.id, committee, note="已在物业大厅启用")
    db_session.commit()
    run_jobs()
    for resident in (people[0], people[1], people[3]):
        texts = _notes(resident.id)
        assert len(texts) == 4, texts
        assert "已被业委会采纳" in texts[0] and "完成40%" in texts[1] and "完成90%" in texts[2]
        assert "已经建成" in texts[3]
    assert _notes(people[2].id) == []
    item = db_session.get(FacilityItem, wish.item_id)
    assert item.built and wish.progress == 100 and wish.completed_at is not None
    kinds = [e.kind for e in wish.events]
    assert kinds[:2] == ["created", "accepted"] and kinds.count("milestone") == 2 and kinds[-1] == "completed"
    with pytest.raises(Conflict):
        wish_review.milestone(db_session, wish.id, committee, percentage=100, note="again")


def test_reject_needs_a_reason_that_followers_read(db_session, people, committee, run_jobs):
    wish = wishes.create_wish(db_session, people[0], title="露天泳池")
    with pytest.raises(ValidationFailed):
        wish_review.reject(db_session, wish.id, committee, "  ")
    wish_review.reject(db_session, wish.id, committee, "消防通道不允许占用")
    assert wish.status == "rejected" and wish.reason == "消防通道不允许占用"
    with pytest.raises(Conflict):
        wishes.support(db_session, wish, people[1])
    with pytest.raises(Conflict):
        wish_review.accept(db_session, wish.id, committee)
    db_session.commit()
    run_jobs()
    assert any("原因：消防通道不允许占用" in t for t in _notes(people[0].id))


def test_merge_moves_supporters_once_and_can_reach_the_target_threshold(db_session, people, committee, run_jobs):
    wishes.set_threshold(db_session, people[0].community_id, mode="absolute", value=4)
    target = wishes.create_wish(db_session, people[0], title="自助打印机")
    wishes.support(db_session, target, people[1])
    duplicate = wishes.create_wish(db_session, people[2], title="打印复印点")
    wishes.support(db_session, duplicate, people[1])  # supports both: counted once after the merge
    wishes.support(db_session, duplicate, people[3])
    with pytest.raises(ValidationFailed):
        wish_review.merge(db_session, duplicate.id, committee, duplicate.id)
    wish_review.merge(db_session, duplicate.id, committee, target.id, reason="同一件事")
    assert duplicate.status == "merged" and duplicate.merged_into_id == target.id
    assert target.supports_count == 4 and target.status == "under_review"
    supporters = set(db_session.scalars(select(WishSupport.resident_id).where(WishSupport.wish_id == target.id)))
    assert supporters == {p.id for p in people}
    assert set(wishes.followers(db_session, target.id)) == {p.id for p in people}
    with pytest.raises(Conflict):
        wishes.comment(db_session, duplicate, "还能留言吗", resident=people[3])
    db_session.commit()
    run_jobs()
    assert any("已合并" in t and "现有4人支持" in t for t in _notes(people[3].id))


def test_other_communities_cannot_see_or_act(db_session, people, committee, make_resident, make_community,
                                             make_staff):
    wish = wishes.create_wish(db_session, people[0], title="篮球场")
    elsewhere = make_community("远方小区")
    stranger = make_resident("1", "1", "101", community=elsewhere)
    outsider = make_staff("committee", community=elsewhere)
    with pytest.raises(NotFound):
        wishes.support(db_session, wish, stranger)
    with pytest.raises(NotFound):
        wish_review.accept(db_session, wish.id, outsider)
    assert wish_review.review_queue(db_session, outsider, status="all") == []


def test_rankings_per_building_count_that_buildings_supporters(db_session, people):
    court = wishes.create_wish(db_session, people[0], title="篮球场")  # building 3
    lift = wishes.create_wish(db_session, people[2], title="加装电梯")  # building 5
    wishes.support(db_session, lift, people[3])
    wishes.support(db_session, court, people[3])
    wishes.support(db_session, court, people[1])
    assert [(w.id, n) for w, n in wishes.rankings(db_session, people[0].community_id)] == [(court.id, 3),
                                                                                          (lift.id, 2)]
    assert [(w.id, n) for w, n in wishes.rankings(db_session, people[0].community_id, building="5")] == [
        (lift.id, 2), (court.id, 1)]


def test_catalogue_editing_and_matching(db_session, people):
    cid = people[0].community_id
    names = [i.name for i in wish_catalogue.items(db_session, cid)]
    assert "社区图书角" in names and "老年食堂" not in names  # the standard menu
    added = wish_catalogue.save_item(db_session, cid, name="自动售货机", aliases="售货机，自动贩卖机",
                                     typical_cost="运营商投放")
    assert wish_catalogue.match_item(db_session, cid, "装个自动贩卖机") == added
    assert wish_catalogue.match_item(db_session, cid, "希望多几个长凳子").name == "长椅"
    assert wish_catalogue.match_item(db_session, cid, "无人机停机坪") is None
    with pytest.raises(Conflict):
        wish_catalogue.save_item(db_session, cid, name="自动售货机")
    wish_catalogue.save_item(db_session, cid, item_id=added.id, name="自动售货机", active=False)
    assert wish_catalogue.match_item(db_session, cid, "自动售货机") is None
    assert db_session.scalar(select(func.count()).select_from(Wish)) == 0
    assert db_session.scalar(select(func.count()).select_from(WishFollower)) == 0


def test_many_steps_in_one_day_fall_into_the_daily_digest(db_session, people, committee, run_jobs):
    made = [wishes.create_wish(db_session, people[1], title=f"心愿{n}") for n in range(7)]
    db_session.commit()
    for wish in made:
        wish_review.accept(db_session, wish.id, committee)
    db_session.commit()
    run_jobs()
    run_jobs()
    db.session.expire_all()
    statuses = list(db.session.scalars(select(Notification.status).where(Notification.resident_id == people[1].id)
                                       .order_by(Notification.id)))
    assert len(statuses) == 7 and statuses.count("sent") == 5 and statuses.count("digest") == 2
