"""Campaigns end to end: drafts, scheduling, fan-out in batches, channels, retries, idempotency, cancelling."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from clock import local_to_utc
from sqlalchemy import func, insert, select, update

from app.campaigns import campaigns as svc
from app.campaigns.audience import AudienceError
from app.campaigns.jobs import send_batch, start_campaign
from app.campaigns.models import Campaign, Delivery
from app.chat.models import Conversation
from app.community.models import Resident, Tag, resident_tag
from app.community.tags import refresh_all
from app.core.clock import local_now, utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.outbox_job import OutboxJob
from app.notify.models import SubscribeGrant
from app.notify.notify import set_preferences
from app.wechat import oa_client, wxa_client

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def daytime(app, clock):
    """Every test here starts at 10:00 today (Shanghai), outside quiet hours; client backoff is quick."""
    clock.at(10, 0)
    clients = [oa_client(app), wxa_client(app)]
    saved = [c.backoff for c in clients]
    for c in clients:
        c.backoff = 0.01
    yield
    for c, b in zip(clients, saved, strict=True):
        c.backoff = b


def crowd(db_session, community_id: int, n: int, *, tag: str = "interest:chess", window: bool = False) -> list[int]:
    """n residents carrying `tag`, each with an official-account openid (bulk, fast)."""
    tag_row = db_session.scalar(select(Tag).where(Tag.community_id == community_id, Tag.name == tag))
    if tag_row is None:
        tag_row = Tag(community_id=community_id, name=tag, kind="interest")
        db_session.add(tag_row)
        db_session.flush()
    people = []
    for _ in range(n):
        k = next(_seq)
        people.append(Resident(community_id=community_id, name=f"住户{k}", phone=f"150{k:08d}",
                               birth_year=1960, oa_openid=f"oa_crowd_{k}"))
    db_session.add_all(people)
    db_session.flush()
    db_session.execute(insert(resident_tag), [{"resident_id": r.id, "tag_id": tag_row.id} for r in people])
    if window:
        db_session.add_all([Conversation(channel="oa", openid=r.oa_openid, resident_id=r.id,
                                         last_inbound_at=utcnow() - timedelta(hours=2)) for r in people])
    db_session.flush()
    return [r.id for r in people]


def sending(db_session, campaign: Campaign, ids: list[int]) -> None:
    """Put a campaign in the middle of sending: fan-out done, every delivery queued, no batch run yet.

    (In embedded mode the start job's commits run the batch jobs at once, so tests that need to
    act between batches build this state directly and run send_batch by hand.)
    """
    campaign.status, campaign.fanout_done, campaign.total = "sending", True, len(ids)
    db_session.execute(insert(Delivery), [
        {"campaign_id": campaign.id, "resident_id": rid, "status": "queued", "attempts": 0} for rid in ids])
    db_session.commit()


def _statuses(db_session, campaign_id):
    db_session.expire_all()
    return dict(db_session.execute(select(Delivery.status, func.count()).where(Delivery.campaign_id == campaign_id)
                                   .group_by(Delivery.status)).all())


def test_draft_checks_its_fields(db_session, make_community):
    c = make_community()
    with pytest.raises(ValidationFailed) as err:
        svc.create_draft(db_session, c.id, title="t", body="{name}您好，{room}", audience_expr="building:1")
    assert err.value.code == "body_template_invalid" and err.value.details == {"unknown": ["room"]}
    with pytest.raises(ValidationFailed):
        svc.create_draft(db_session, c.id, title="t", body="花括号 { 不成对", audience_expr="building:1")
    with pytest.raises(AudienceError) as err:
        svc.create_draft(db_session, c.id, title="t", body="hi", audience_expr="building:1 AND")
    assert err.value.position == 14
    with pytest.raises(ValidationFailed):
        svc.create_draft(db_session, c.id, title=" ", body="hi", audience_expr="building:1")


def test_campaign_reaches_the_audience_on_the_best_channel(db_session, run_jobs, fake_wechat, make_resident):
    inside = make_resident("30", "1", "101", name="王阿姨", birth_year=1950, openid="oa_wang")
    granted = make_resident("30", "1", "102", name="李伯", birth_year=1948, openid="oa_li", wxa_openid="wxa_li")
    plain = make_resident("30", "2", "201", name="赵奶奶", birth_year=1940, openid="oa_zhao")
    unreachable = make_resident("30", "2", "202", name="钱爷爷", birth_year=1944)
    muted = make_resident("30", "2", "203", name="孙阿姨", birth_year=1952, openid="oa_sun")
    young = make_resident("30", "3", "301", name="小周", birth_year=1995, openid="oa_zhou")
    elsewhere = make_resident("31", "1", "101", name="吴伯", birth_year=1950, openid="oa_wu")
    community_id = inside.community_id
    refresh_all(db_session, community_id, year=local_now().year)
    db_session.add(Conversation(channel="oa", openid="oa_wang", resident_id=inside.id,
                                last_inbound_at=utcnow() - timedelta(hours=3)))
    db_session.add(SubscribeGrant(resident_id=granted.id, template_id="wxa-tmpl-notice", remaining=2))
    set_preferences(db_session, muted.id, muted=["health"])
    campaign = svc.create_draft(db_session, community_id, title="老年人免费体检", category="health",
                                body="{name}您好，{building}的老人本周六可免费体检。",
                                audience_expr="building:30 AND age>=60")
    svc.schedule(db_session, community_id, campaign.id)
    db_session.commit()
    run_jobs()

    db_session.expire_all()
    campaign = db_session.get(Campaign, campaign.id)
    assert campaign.status == "sent" and campaign.total == 5 and campaign.finished_at is not None
    rows = {d.resident_id: d for d in db_session.scalars(select(Delivery).where(Delivery.campaign_id == campaign.id))}
    assert young.id not in rows and elsewhere.id not in rows
    assert (rows[inside.id].status, rows[inside.id].channel) == ("sent", "custom")
    assert (rows[granted.id].status, rows[granted.id].channel) == ("sent", "subscribe")
    assert (rows[plain.id].status, rows[plain.id].channel) == ("sent", "template")
    assert (rows[unreachable.id].status, rows[unreachable.id].reason) == ("skipped", "no_channel")
    assert (rows[muted.id].status, rows[muted.id].reason) == ("skipped", "muted")
    assert db_session.scalar(select(SubscribeGrant.remaining).where(SubscribeGrant.resident_id == granted.id)) == 1
    assert [m["text"]["content"] for m in fake_wechat.sent_messages("custom")] == [
        "王阿姨您好，30幢的老人本周六可免费体检。"]
    assert fake_wechat.sent_messages("template")[0]["data"]["first"]["value"].startswith("赵奶奶您好")
    progress = svc.progress(db_session, campaign)
    assert progress | {"by_channel": None} == {
        "total": 5, "done": 5, "queued": 0, "sending": 0, "sent": 3, "failed": 0, "skipped": 2,
        "by_channel": None, "percent": 100.0}
    assert progress["by_channel"] == {"custom": 1, "subscribe": 1, "template": 1}


def test_audience_is_split_into_batches(app, db_session, run_jobs, fake_wechat, make_community, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_BATCH_SIZE", 200)  # 500 by default; smaller here to keep the test quick
    c = make_community()
    crowd(db_session, c.id, 450)
    campaign = svc.create_draft(db_session, c.id, title="象棋赛", body="{name}：周六象棋赛",
                                audience_expr="interest:chess")
    svc.schedule(db_session, c.id, campaign.id)
    db_session.commit()
    run_jobs()
    batches = db_session.scalars(select(OutboxJob).where(OutboxJob.func == "app.campaigns.jobs.send_batch")).all()
    assert len(batches) == 3
    assert _statuses(db_session, campaign.id) == {"sent": 450}
    sent = fake_wechat.sent_messages("template")
    assert len(sent) == 450 and len({m["touser"] for m in sent}) == 450
    assert db_session.get(Campaign, campaign.id).status == "sent"


def test_one_job_per_message_baseline_sends_each_resident_once(db_session, run_jobs, fake_wechat, make_community):
    c = make_community()
    ids = crowd(db_session, c.id, 7)
    campaign = svc.create_draft(db_session, c.id, title="t", body="{name}：通知", audience_expr="interest:chess")
    campaign.status = "scheduled"
    db_session.commit()
    assert start_campaign(campaign.id, per_message=True) == 7
    run_jobs()
    assert _statuses(db_session, campaign.id) == {"sent": 7}
    sent = fake_wechat.sent_messages("template")
    assert sorted(m["touser"] for m in sent) == sorted(db_session.get(Resident, r).oa_openid for r in ids)
    assert db_session.get(Campaign, campaign.id).status == "sent"


def test_a_rerun_never_sends_twice(db_session, run_jobs, fake_wechat, make_community):
    c = make_community()
    ids = crowd(db_session, c.id, 30, window=True)
    campaign = svc.create_draft(db_session, c.id, title="t", body="停水通知", audience_expr="interest:chess",
                                category="property")
    svc.schedule(db_session, c.id, campaign.id)
    db_session.commit()
    run_jobs()
    assert _statuses(db_session, campaign.id) == {"sent": 30}
    assert start_campaign(campaign.id) == 0  # the start job again: no second fan-out
    assert send_batch(campaign.id, ids[0], ids[-1]) == {}  # a batch again: nothing queued to claim
    # a fan-out that crashed half-way resumes after the last resident it reached, adding nothing twice
    db_session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status="sending", fanout_done=False))
    db_session.commit()
    assert start_campaign(campaign.id) == 0
    run_jobs()
    assert len(fake_wechat.sent_messages("custom")) == 30
    assert len({m["touser"] for m in fake_wechat.sent_messages("custom")}) == 30
    assert db_session.scalar(select(func.count()).select_from(Delivery)) == 30


def test_a_claimed_delivery_is_never_sent_again(db_session, fake_wechat, make_community):
    c = make_community()
    ids = crowd(db_session, c.id, 3, window=True)
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    sending(db_session, campaign, ids)
    # a worker claimed the first one and died before recording the outcome
    db_session.execute(update(Delivery).where(Delivery.resident_id == ids[0]).values(status="sending"))
    db_session.commit()
    assert send_batch(campaign.id, ids[0], ids[-1]) == {"sent": 2}
    assert {m["touser"] for m in fake_wechat.sent_messages()} == {
        db_session.get(Resident, rid).oa_openid for rid in ids[1:]}
    assert _statuses(db_session, campaign.id) == {"sending": 1, "sent": 2}


def test_busy_and_rate_limits_are_retried_with_backoff(db_session, run_jobs, fake_wechat, make_community):
    c = make_community()
    ids = crowd(db_session, c.id, 12, window=True)
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    db_session.commit()
    fake_wechat.fail_next("/message/custom/send", 45009, times=40)  # rate limited for a while
    svc.schedule(db_session, c.id, campaign.id)
    db_session.commit()
    run_jobs()
    assert _statuses(db_session, campaign.id) == {"queued": 12}  # nothing failed, nothing sent
    # once WeChat said "rate limit", the rest of the batch was not even tried
    assert len(fake_wechat.calls_to("/message/custom/send")) < 12 * 3
    again = db_session.scalars(select(OutboxJob).where(OutboxJob.func == "app.campaigns.jobs.send_batch")
                               .order_by(OutboxJob.id.desc())).first()
    assert again.args == [campaign.id, ids[0], ids[-1]] and again.run_at >= utcnow() + timedelta(seconds=10)
    fake_wechat.reset()
    fake_wechat.fail_next("/message/custom/send", -1, times=1)  # busy once: the client retries it
    assert send_batch(campaign.id, ids[0], ids[-1]) == {"sent": 12}
    assert len(fake_wechat.sent_messages("custom")) == 12
    db_session.expire_all()
    assert {d.attempts for d in db_session.scalars(select(Delivery))} == {2}
    assert db_session.get(Campaign, campaign.id).status == "sent"


def test_gives_up_after_the_last_attempt(db_session, fake_wechat, make_community):
    c = make_community()
    ids = crowd(db_session, c.id, 2, window=True)
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    sending(db_session, campaign, ids)
    fake_wechat.fail_next("/message/custom/send", -1, times=1000)
    for _ in range(4):
        send_batch(campaign.id, ids[0], ids[-1])
    db_session.expire_all()
    rows = db_session.scalars(select(Delivery)).all()
    assert {(d.status, d.attempts) for d in rows} == {("failed", 4)}
    assert all("-1" in d.reason for d in rows)
    assert fake_wechat.sent_messages() == []


def test_cancelling_stops_the_remaining_batches(db_session, run_jobs, fake_wechat, make_community):
    c = make_community()
    ids = crowd(db_session, c.id, 450)
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    sending(db_session, campaign, ids)
    assert send_batch(campaign.id, ids[0], ids[199]) == {"sent": 200}  # the first batch went out
    svc.cancel(db_session, c.id, campaign.id)
    db_session.commit()
    assert send_batch(campaign.id, ids[200], ids[399]) == {"skipped": 0}  # the remaining batches send nothing
    assert send_batch(campaign.id, ids[400], ids[449]) == {"skipped": 0}
    assert len(fake_wechat.sent_messages()) == 200
    assert _statuses(db_session, campaign.id) == {"sent": 200, "skipped": 250}
    assert db_session.get(Campaign, campaign.id).status == "cancelled"
    with pytest.raises(Conflict):
        svc.cancel(db_session, c.id, campaign.id)


def test_cancelled_before_its_time_never_starts(db_session, run_jobs, fake_wechat, make_community):
    c = make_community()
    crowd(db_session, c.id, 5)
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    tomorrow_10 = local_to_utc(local_now().date() + timedelta(days=1), 10, 0)
    svc.schedule(db_session, c.id, campaign.id, at=tomorrow_10)
    db_session.commit()
    job = db_session.scalars(select(OutboxJob).where(OutboxJob.func == svc.START_JOB)).one()
    assert job.run_at > utcnow()
    svc.cancel(db_session, c.id, campaign.id)
    db_session.commit()
    assert start_campaign(campaign.id) == 0  # what the job does when its time comes
    assert fake_wechat.sent_messages() == [] and _statuses(db_session, campaign.id) == {}


def test_scheduling_rules(db_session, make_community, app, clock):
    tonight = local_to_utc(clock.today(), 23, 30)
    c = make_community()
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    with pytest.raises(ValidationFailed) as err:
        svc.schedule(db_session, c.id, campaign.id, at=tonight)
    assert err.value.code == "schedule_in_quiet_hours"
    with pytest.raises(ValidationFailed) as err:
        svc.schedule(db_session, c.id, campaign.id, at=clock.now() - timedelta(hours=1))
    assert err.value.code == "schedule_in_past"
    urgent = svc.create_draft(db_session, c.id, title="t", body="燃气抢修", audience_expr="interest:chess",
                              category="safety", urgent=True)
    assert svc.schedule(db_session, c.id, urgent.id, at=tonight).status == "scheduled"
    with pytest.raises(Conflict):
        svc.schedule(db_session, c.id, urgent.id, at=tonight)


def test_batches_that_reach_quiet_hours_wait_for_the_morning(app, db_session, fake_wechat, make_community,
                                                             run_jobs, clock):
    c = make_community()
    ids = crowd(db_session, c.id, 3)
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    sending(db_session, campaign, ids)
    clock.at(23, 30)
    assert send_batch(campaign.id, ids[0], ids[-1]) == {"deferred": 1}
    later = db_session.scalars(select(OutboxJob).where(OutboxJob.func == "app.campaigns.jobs.send_batch")
                               .order_by(OutboxJob.id.desc())).first()
    assert later.run_at == local_to_utc(clock.today() + timedelta(days=1), 7, 0)
    run_jobs()
    assert fake_wechat.sent_messages() == [] and _statuses(db_session, campaign.id) == {"queued": 3}
    clock.at(7, 5, days=1)
    run_jobs()
    db_session.expire_all()
    assert _statuses(db_session, campaign.id) == {"sent": 3} and len(fake_wechat.sent_messages()) == 3


def test_two_last_batches_finishing_at_once_still_mark_the_campaign_sent(app, db_session, make_community):
    """Both record their outcomes before either checks: the second check must see the first's commit."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy.orm import Session

    from app.campaigns.jobs import finish_if_done
    from app.core.db import db

    c = make_community()
    ids = crowd(db_session, c.id, 2)
    campaign = svc.create_draft(db_session, c.id, title="t", body="通知", audience_expr="interest:chess")
    sending(db_session, campaign, ids)
    db_session.execute(update(Delivery).values(status="sending"))
    db_session.commit()
    first, second = Session(db.engine), Session(db.engine)
    try:
        def record(session, rid):
            session.execute(update(Delivery).where(Delivery.resident_id == rid).values(status="sent"))

        if db.engine.dialect.name == "postgresql":  # truly at once: both batches' outcomes uncommitted
            record(first, ids[0])
            record(second, ids[1])
            assert finish_if_done(first, campaign.id) is False  # sees the other batch still sending
            with ThreadPoolExecutor(1) as pool:
                later = pool.submit(finish_if_done, second, campaign.id)  # waits for the campaign row
                first.commit()
                assert later.result(timeout=10) is True
        else:  # SQLite has one writer at a time: the batches finish one after the other
            record(first, ids[0])
            assert finish_if_done(first, campaign.id) is False
            first.commit()
            record(second, ids[1])
            assert finish_if_done(second, campaign.id) is True
        second.commit()
    finally:
        first.close()
        second.close()
    db_session.expire_all()
    assert db_session.get(Campaign, campaign.id).status == "sent"


def test_deliveries_a_lost_worker_left_sending_are_reaped_and_the_campaign_finishes(db_session, make_community):
    from app.campaigns.jobs import reap_stuck_deliveries

    c = make_community()
    ids = crowd(db_session, c.id, 3)
    old = svc.create_draft(db_session, c.id, title="旧", body="通知", audience_expr="interest:chess")
    sending(db_session, old, ids)
    fresh = svc.create_draft(db_session, c.id, title="新", body="通知", audience_expr="interest:chess")
    sending(db_session, fresh, ids[:1])
    two_hours_ago, minutes_ago = utcnow() - timedelta(hours=2), utcnow() - timedelta(minutes=5)
    db_session.execute(update(Delivery).where(Delivery.campaign_id == old.id, Delivery.resident_id == ids[0])
                       .values(status="sending", updated_at=two_hours_ago))
    db_session.execute(update(Delivery).where(Delivery.campaign_id == old.id, Delivery.resident_id != ids[0])
                       .values(status="sent", updated_at=two_hours_ago))
    db_session.execute(update(Delivery).where(Delivery.campaign_id == fresh.id)
                       .values(status="sending", updated_at=minutes_ago))  # a batch still at work
    db_session.commit()

    assert reap_stuck_deliveries() == 1
    assert _statuses(db_session, old.id) == {"failed": 1, "sent": 2}
    lost = db_session.scalar(select(Delivery).where(Delivery.campaign_id == old.id, Delivery.status == "failed"))
    assert lost.reason == "worker_lost" and lost.resident_id == ids[0]
    assert db_session.get(Campaign, old.id).status == "sent"
    assert _statuses(db_session, fresh.id) == {"sending": 1}
    assert db_session.get(Campaign, fresh.id).status == "sending"
    assert reap_stuck_deliveries() == 0
