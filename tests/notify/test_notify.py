"""notify(): channel choice, fallbacks, grants, retries, idempotency, preferences, quiet hours, digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from clock import local_to_utc
from sqlalchemy import select

from app.chat.models import Conversation
from app.core.clock import utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.outbox_job import OutboxJob
from app.notify import notify as svc
from app.notify.jobs import deliver_notification, send_digest
from app.notify.models import Notification, SubscribeGrant


@pytest.fixture(autouse=True)
def daytime(clock):
    """Every test here starts at 10:00 today, Shanghai time; quiet-hours tests move on to 23:30."""
    clock.at(10, 0)
    return clock


@pytest.fixture
def person(db_session, make_resident):
    """person(oa=True, wxa=False, window=False, grants=0) -> Resident with those channels."""
    counter = iter(range(1, 10_000))

    def make(*, oa: bool = True, wxa: bool = False, window: bool = False, grants: int = 0,
             template_id: str = "wxa-tmpl-notice", **kw):
        n = next(counter)
        r = make_resident(room=f"{100 + n}", openid=f"oa_p{n}" if oa else None,
                          wxa_openid=f"wxa_p{n}" if wxa else None, **kw)
        if window:
            db_session.add(Conversation(channel="oa", openid=r.oa_openid, resident_id=r.id,
                                        last_inbound_at=utcnow() - timedelta(hours=1)))
        if grants:
            db_session.add(SubscribeGrant(resident_id=r.id, template_id=template_id, remaining=grants))
        db_session.flush()
        return r

    return make


def _send(db_session, run_jobs, resident, **kw):
    kw.setdefault("category", "property")
    kw.setdefault("text", "明天上午 9 点停水，请提前储水")
    note = svc.notify(db_session, resident.id, **kw)
    db_session.commit()
    run_jobs()
    db_session.expire_all()
    return db_session.get(Notification, note.id)


def _grant(db_session, resident_id, template_id="wxa-tmpl-notice"):
    return db_session.scalar(select(SubscribeGrant.remaining).where(
        SubscribeGrant.resident_id == resident_id, SubscribeGrant.template_id == template_id))


def test_inside_window_goes_as_customer_service_message(db_session, run_jobs, fake_wechat, person):
    r = person(window=True, wxa=True, grants=1)
    note = _send(db_session, run_jobs, r)
    assert (note.status, note.channel) == ("sent", "custom")
    sent = fake_wechat.sent_messages("custom")
    assert [m["touser"] for m in sent] == [r.oa_openid]
    assert sent[0]["text"]["content"].startswith("明天上午 9 点停水")
    assert _grant(db_session, r.id) == 1  # the grant was not spent


def test_outside_window_uses_a_subscribe_grant_then_a_template_message(db_session, run_jobs, fake_wechat, person):
    r = person(wxa=True, grants=1)
    first = _send(db_session, run_jobs, r)
    assert (first.status, first.channel) == ("sent", "subscribe")
    assert _grant(db_session, r.id) == 0
    body = fake_wechat.sent_messages("subscribe")[0]
    assert body["touser"] == r.wxa_openid and body["template_id"] == "wxa-tmpl-notice"
    assert body["data"]["thing1"]["value"] == "社区通知"

    second = _send(db_session, run_jobs, r)
    assert (second.status, second.channel) == ("sent", "template")
    assert fake_wechat.sent_messages("template")[0]["template_id"] == "oa-tmpl-notice"


def test_a_template_message_opens_the_linked_page_in_the_mini_program_or_on_the_web(db_session, run_jobs,
                                                                                     fake_wechat, person, app):
    r = person()
    _send(db_session, run_jobs, r, link="pages/chat/index")
    _send(db_session, run_jobs, r, link="https://example.org/notice/1")
    to_page, to_web = fake_wechat.sent_messages("template")
    assert to_page["miniprogram"] == {"appid": app.config["WXA_APP_ID"], "pagepath": "pages/chat/index"}
    assert "url" not in to_page
    assert to_web["url"] == "https://example.org/notice/1" and "miniprogram" not in to_web


def test_window_closed_by_wechat_falls_back(db_session, run_jobs, fake_wechat, person):
    r = person(window=True)
    fake_wechat.fail_next("/message/custom/send", 45015)
    note = _send(db_session, run_jobs, r)
    assert (note.status, note.channel) == ("sent", "template")
    assert [c.errcode for c in fake_wechat.calls_to("/message/custom/send")] == [45015]


def test_no_grant_at_wechat_clears_our_count_and_falls_back(db_session, run_jobs, fake_wechat, person):
    r = person(wxa=True, grants=3)
    fake_wechat.fail_next("/message/subscribe/send", 43101)
    note = _send(db_session, run_jobs, r)
    assert (note.status, note.channel) == ("sent", "template")
    assert _grant(db_session, r.id) == 0


def test_mini_program_only_without_grant_is_skipped(db_session, run_jobs, fake_wechat, person):
    r = person(oa=False, wxa=True)
    note = _send(db_session, run_jobs, r)
    assert note.status == "skipped" and "no_grant" in note.reason
    assert fake_wechat.sent_messages() == []


def test_unfollowed_is_recorded_as_failed(db_session, run_jobs, fake_wechat, person):
    r = person()
    fake_wechat.fail_next("/message/template/send", 43004)
    note = _send(db_session, run_jobs, r)
    assert note.status == "failed" and "43004" in note.reason


def test_busy_is_retried_later_with_backoff(db_session, run_jobs, fake_wechat, person):
    r = person(window=True)
    fake_wechat.fail_next("/message/custom/send", -1, times=3)  # the client's own 2 retries too
    note = _send(db_session, run_jobs, r)
    assert (note.status, note.attempts) == ("queued", 1)
    later = db_session.scalars(select(OutboxJob).order_by(OutboxJob.id.desc())).first()
    assert later.func == svc.DELIVER_JOB and later.args == [note.id]
    assert later.run_at > utcnow() + timedelta(seconds=20)  # backoff: not before then
    assert deliver_notification(note.id) == "sent"  # what the scheduled job does when due
    db_session.expire_all()
    note = db_session.get(Notification, note.id)
    assert (note.status, note.channel, note.attempts) == ("sent", "custom", 2)
    assert len(fake_wechat.sent_messages("custom")) == 1


def test_a_rerun_never_sends_twice(db_session, run_jobs, fake_wechat, person):
    r = person(window=True)
    note = _send(db_session, run_jobs, r)
    assert note.status == "sent"
    assert deliver_notification(note.id) == "already_handled"
    assert len(fake_wechat.sent_messages()) == 1


def test_muted_category_is_recorded_and_never_sent(db_session, run_jobs, fake_wechat, person):
    r = person(window=True)
    svc.set_preferences(db_session, r.id, muted=["activities"])
    muted = _send(db_session, run_jobs, r, category="activities", text="周六象棋比赛")
    assert muted.status == "muted"
    safety = _send(db_session, run_jobs, r, category="safety", text="3 幢电梯故障，请走楼梯")
    assert safety.status == "sent"
    assert [m["text"]["content"] for m in fake_wechat.sent_messages()] == ["3 幢电梯故障，请走楼梯"]


def test_safety_and_unknown_categories_cannot_be_muted(db_session, person):
    r = person()
    with pytest.raises(ValidationFailed) as err:
        svc.set_preferences(db_session, r.id, muted=["safety"])
    assert err.value.code == "category_not_mutable"
    with pytest.raises(ValidationFailed):
        svc.set_preferences(db_session, r.id, muted=["lottery"])


def test_bad_input(db_session, person):
    r = person()
    with pytest.raises(ValidationFailed):
        svc.notify(db_session, r.id, category="gossip", text="x")
    with pytest.raises(ValidationFailed):
        svc.notify(db_session, r.id, category="property", text="  ")
    with pytest.raises(NotFound):
        svc.notify(db_session, 999_999, category="property", text="x")


def test_quiet_hours_defer_to_seven_unless_urgent(db_session, run_jobs, fake_wechat, person, clock):
    r = person(window=True)
    clock.at(23, 30)
    late = _send(db_session, run_jobs, r)
    assert late.status == "queued" and late.reason == "quiet_hours"
    assert late.deliver_at == local_to_utc(clock.today() + timedelta(days=1), 7, 0)  # 07:00 tomorrow
    job = db_session.scalars(select(OutboxJob).where(OutboxJob.func == svc.DELIVER_JOB)).one()
    assert job.run_at == late.deliver_at and job.args == [late.id]
    urgent = _send(db_session, run_jobs, r, category="safety", urgent=True, text="燃气泄漏，请立即撤离")
    assert urgent.status == "sent" and urgent.deliver_at is None
    assert [m["text"]["content"] for m in fake_wechat.sent_messages()] == ["燃气泄漏，请立即撤离"]


def test_quiet_hours_hold_broadcasts_but_not_answers_to_the_residents_own_request(db_session, run_jobs,
                                                                                  fake_wechat, person, clock):
    r = person(window=True)
    clock.at(23, 30)
    notice = _send(db_session, run_jobs, r, category="property", text="明早停水通知")
    answer = _send(db_session, run_jobs, r, category="service", text="师傅已接单，明早上门")
    assert notice.reason == "quiet_hours" and notice.status == "queued"
    assert answer.deliver_at is None and answer.status == "sent"
    assert [m["text"]["content"] for m in fake_wechat.sent_messages()] == ["师傅已接单，明早上门"]


def test_quiet_hours_can_be_turned_off(db_session, run_jobs, person, clock):
    r = person(window=True)
    svc.set_preferences(db_session, r.id, quiet_hours=False)
    clock.at(23, 30)
    assert _send(db_session, run_jobs, r).status == "sent"


def test_held_message_goes_in_the_morning(db_session, run_jobs, fake_wechat, person, clock):
    r = person(window=True)
    clock.at(23, 30)
    late = _send(db_session, run_jobs, r)
    assert late.status == "queued" and fake_wechat.sent_messages() == []
    clock.at(6, 59, days=1)
    run_jobs()
    assert fake_wechat.sent_messages() == []
    clock.at(7, 1, days=1)
    run_jobs()
    db_session.expire_all()
    assert db_session.get(Notification, late.id).status == "sent"
    assert len(fake_wechat.sent_messages()) == 1


def test_quiet_hours_edges(clock):
    day = clock.today()
    morning = local_to_utc(day + timedelta(days=1), 7, 0)
    assert svc.defer_for_quiet_hours(local_to_utc(day, 21, 59), urgent=False) is None
    assert svc.defer_for_quiet_hours(local_to_utc(day, 22, 0), urgent=False) == morning
    assert svc.defer_for_quiet_hours(local_to_utc(day + timedelta(days=1), 6, 59), urgent=False) == morning
    assert svc.defer_for_quiet_hours(morning, urgent=False) is None
    assert svc.defer_for_quiet_hours(local_to_utc(day, 23, 0), urgent=True) is None


def test_many_in_a_day_become_one_digest(app, db_session, run_jobs, fake_wechat, person, clock):
    r = person(window=True)
    notes = [_send(db_session, run_jobs, r, category="activities", text=f"活动 {i}") for i in range(7)]
    assert [n.status for n in notes] == ["sent"] * 5 + ["digest"] * 2
    urgent = _send(db_session, run_jobs, r, category="safety", urgent=True, text="紧急：停电")
    assert urgent.status == "sent"
    digest_job = db_session.scalars(select(OutboxJob).where(OutboxJob.func == svc.DIGEST_JOB)).one()
    today = clock.today().isoformat()
    assert digest_job.args == [r.id, today] and digest_job.run_at > utcnow()
    assert send_digest(r.id, today) == "sent"  # what the scheduled job does when due
    assert send_digest(r.id, today) == "nothing"  # a rerun sends nothing
    texts = [m["text"]["content"] for m in fake_wechat.sent_messages("custom")]
    assert len(texts) == 7 and texts[-1].startswith("您今天还有 2 条社区通知")
    assert "活动 5" in texts[-1] and "活动 6" in texts[-1]
    db_session.expire_all()
    assert {db_session.get(Notification, n.id).status for n in notes[5:]} == {"sent"}
