"""An author withdrawing a wish: the service, what stops offering it, the console's read-only view, and chat."""

from __future__ import annotations

import pytest
from console_forms import login
from sqlalchemy import select

from app.community.models import Community
from app.core.db import db
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.notify.models import Notification
from app.wishes import chat as wish_chat
from app.wishes import review as wish_review
from app.wishes import wishes
from app.wishes import withdraw as wish_withdraw
from app.wishes.models import OPEN_STATUSES, STATUSES, Wish, WishEvent


@pytest.fixture
def people(make_resident, make_community, db_session):
    community = make_community("幸福里", kind="standard")
    homes = (("3", "101", "王阿姨"), ("3", "102", "李叔叔"), ("5", "201", "张奶奶"))
    residents = [make_resident(b, "1", r, name=n, openid=f"o_{i}", community=community)
                 for i, (b, r, n) in enumerate(homes)]
    db_session.commit()
    return residents


@pytest.fixture
def committee(make_staff, people, db_session):
    staff = make_staff("committee", password="right-password",
                       community=db_session.get(Community, people[0].community_id))
    db_session.commit()
    return staff


def test_withdrawn_is_a_closed_status():
    assert "withdrawn" in STATUSES and "withdrawn" not in OPEN_STATUSES
    assert wishes.STATUS_LABELS["withdrawn"] == "已撤回"


def test_rankings_and_similar_search_no_longer_offer_a_withdrawn_wish(db_session, people, committee):
    wang, li, zhang = people
    court = wishes.create_wish(db_session, wang, title="篮球场")
    wishes.support(db_session, court, li)
    wishes.support(db_session, court, zhang)
    printer = wishes.create_wish(db_session, li, title="自助打印机")
    cid = wang.community_id
    assert [w.id for w, _ in wishes.rankings(db_session, cid)] == [court.id, printer.id]
    assert [w.id for w, _ in wishes.rankings(db_session, cid, building="5")] == [court.id]
    assert [w.id for w in wishes.similar_wishes(db_session, cid, title="篮球场")] == [court.id]

    withdrawn = wish_withdraw.withdraw(db_session, court.id, wang, "duplicated", note="和3幢的心愿重复")
    db_session.commit()

    assert withdrawn.status == "withdrawn" and not withdrawn.is_open
    assert withdrawn.reason == "duplicated: 和3幢的心愿重复"
    assert wish_withdraw.reason_label(withdrawn) == "已有相同心愿：和3幢的心愿重复"
    assert [w.id for w, _ in wishes.rankings(db_session, cid)] == [printer.id]
    assert wishes.rankings(db_session, cid, building="5") == []
    assert wishes.similar_wishes(db_session, cid, title="篮球场") == []
    assert [w.id for w in wishes.list_wishes(db_session, cid, status="open")] == [printer.id]
    assert [w.id for w in wishes.list_wishes(db_session, cid, status="withdrawn")] == [court.id]
    event = db_session.scalar(select(WishEvent).where(WishEvent.wish_id == court.id, WishEvent.kind == "withdrawn"))
    assert (event.from_status, event.to_status, event.actor_kind, event.actor_id) == (
        "collecting", "withdrawn", "resident", wang.id)
    with pytest.raises(Conflict):
        wishes.support(db_session, withdrawn, people[2])
    with pytest.raises(Conflict):  # the committee cannot act on it either
        wish_review.accept(db_session, court.id, committee)


def test_the_service_refuses_strangers_decided_wishes_and_bad_reasons(db_session, people, committee,
                                                                      make_community, make_resident):
    wang, li, _ = people
    wish = wishes.create_wish(db_session, wang, title="长椅")
    with pytest.raises(ValidationFailed) as bad:
        wish_withdraw.withdraw(db_session, wish.id, wang, "bored")
    assert bad.value.code == "bad_reason"
    with pytest.raises(Forbidden) as stranger:
        wish_withdraw.withdraw(db_session, wish.id, li, "done")
    assert stranger.value.code == "not_author"
    far = make_resident("1", "1", "101", openid="o_far", community=make_community("别处"))
    with pytest.raises(NotFound):
        wish_withdraw.withdraw(db_session, wish.id, far, "done")
    wish_review.accept(db_session, wish.id, committee)
    with pytest.raises(Conflict) as decided:
        wish_withdraw.withdraw(db_session, wish.id, wang, "done")
    assert decided.value.code == "cannot_withdraw"
    long = wishes.create_wish(db_session, wang, title="屋顶花园")
    wish_withdraw.withdraw(db_session, long.id, wang, "unfeasible", note="太" * 500)
    assert long.reason == "unfeasible: " + "太" * wish_withdraw.MAX_NOTE


def test_the_console_shows_withdrawn_wishes_with_their_reason_read_only(client, db_session, people, committee):
    wang = people[0]
    wish = wishes.create_wish(db_session, wang, title="自助打印机")
    wish_withdraw.withdraw(db_session, wish.id, wang, "done", note="楼下开了打印店")
    db_session.commit()
    assert login(client, committee.username, "right-password").status_code == 303
    queue = client.get("/console/wishes?status=withdrawn").get_data(as_text=True)
    assert 'id="tab-withdrawn"' in queue and f'id="wish-{wish.id}"' in queue and "已解决：楼下开了打印店" in queue
    assert f'id="wish-{wish.id}"' not in client.get("/console/wishes?status=open").get_data(as_text=True)
    page = client.get(f"/console/wishes/{wish.id}").get_data(as_text=True)
    assert "已撤回（提出者撤回：已解决：楼下开了打印店）" in page
    for action in ('id="accept"', 'id="reject"', 'id="merge"', 'id="review"', 'id="milestone"'):
        assert action not in page
    listed = client.get("/console/api/wishes?status=withdrawn").get_json()["wishes"]
    assert [(w["id"], w["status_label"], w["reason_label"]) for w in listed] == [
        (wish.id, "已撤回", "已解决：楼下开了打印店")]


def test_chat_lists_then_withdraws_and_followers_are_told(wx, db_session, people, run_jobs):
    wang, li, _ = people
    wish = wishes.create_wish(db_session, wang, title="篮球场")
    wishes.support(db_session, wish, li)
    other = wishes.create_wish(db_session, li, title="长椅")
    db_session.commit()
    listed = wx.say("o_0", "撤回我的心愿")
    assert f"编号{wish.id}" in listed and "篮球场" in listed and f"编号{other.id}" not in listed
    assert "已有相同心愿、已在建设、不可行、已解决" in listed
    asked = wx.say("o_0", f"撤回心愿{wish.id}")
    assert "请说明撤回的原因" in asked
    assert wx.say("o_1", f"撤回心愿{wish.id} 已解决") == "只有提出心愿的邻居才能撤回它"
    done = wx.say("o_0", f"撤回心愿{wish.id} 不可行 场地不够")
    assert "「篮球场」已撤回（不可行：场地不够）" in done
    db.session.expire_all()
    assert db.session.get(Wish, wish.id).status == "withdrawn"
    assert "没有可以撤回的心愿" in wx.say("o_0", "撤销我的心愿")
    assert "（不可行：场地不够）" in wx.say("o_1", "我的心愿有进展吗")
    run_jobs()
    db.session.expire_all()
    told = db.session.scalars(select(Notification.resident_id).where(Notification.text.contains("已由提出的邻居撤回")))
    assert sorted(told) == sorted([wang.id, li.id])


def test_status_reply_names_the_reason(db_session, people):
    wang = people[0]
    wish = wishes.create_wish(db_session, wang, title="篮球场")
    wish_withdraw.withdraw(db_session, wish.id, wang, "started")
    assert "「篮球场」已撤回，1人支持（已在建设）" in wish_chat.status_reply(db_session, wang)


def test_chat_understands_the_withdrawal_however_the_parser_leans(wx, db_session, people):
    """撤回我提的心愿 parses as a weak ticket_status (0.43): the wish words still decide."""
    wang, _, _ = people
    wish = wishes.create_wish(db_session, wang, title="乒乓球桌")
    db_session.commit()
    listed = wx.say("o_0", "撤回我提的心愿")
    assert f"编号{wish.id}" in listed and "乒乓球桌" in listed
