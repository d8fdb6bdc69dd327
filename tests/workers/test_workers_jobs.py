"""The job functions: binding expiry and customer-service texts through the fake WeChat API."""

from __future__ import annotations

from datetime import UTC, timedelta

from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import update

from app.binding.models import Binding
from app.chat.jobs import SEND_RETRY
from app.chat.models import Conversation, Message
from app.core.clock import utcnow
from app.core.outbox import enqueue, get_queue
from app.core.outbox_job import OutboxJob
from app.core.redis_conn import get_redis

SEND_PATH = "/cgi-bin/message/custom/send"


def _binding(db_session, status: str, expires_in: timedelta) -> Binding:
    binding = Binding(channel="oa", openid=f"o_{status}_{expires_in.total_seconds():.0f}", status=status,
                      expires_at=utcnow() + expires_in)
    db_session.add(binding)
    db_session.flush()
    return binding


def test_expire_bindings_expires_only_pending_ones_past_their_time(app, db_session, run_jobs):
    overdue = _binding(db_session, "pending", timedelta(minutes=-1))
    fresh = _binding(db_session, "pending", timedelta(minutes=30))
    confirmed = _binding(db_session, "confirmed", timedelta(days=-1))
    enqueue(db_session, "app.binding.jobs.expire_bindings", queue="low")
    db_session.commit()
    run_jobs()
    db_session.expire_all()
    assert (overdue.status, fresh.status, confirmed.status) == ("expired", "pending", "confirmed")


def _outbound(db_session, openid: str, text: str) -> Message:
    conversation = Conversation(channel="oa", openid=openid)
    db_session.add(conversation)
    db_session.flush()
    message = Message(conversation_id=conversation.id, direction="out", msg_type="text", content=text,
                      delivery="queued")
    db_session.add(message)
    db_session.flush()
    return message


def _rq_job(app, db_session, outbox_row: OutboxJob) -> Job:
    row = db_session.get(OutboxJob, outbox_row.id)
    job_id = f"outbox-{row.id}-{int(row.created_at.replace(tzinfo=UTC).timestamp())}"
    return Job.fetch(job_id, connection=get_redis(app))


def test_send_text_delivers_and_records_sent(app, db_session, run_jobs, fake_wechat):
    message = _outbound(db_session, "o_wang", "师傅明天上午九点上门")
    enqueue(db_session, "app.chat.jobs.send_text", "o_wang", message.content, message.id, retries=SEND_RETRY)
    db_session.commit()
    run_jobs()
    sent = fake_wechat.sent_messages("custom")
    assert sent == [{"touser": "o_wang", "msgtype": "text", "text": {"content": "师傅明天上午九点上门"}}]
    db_session.expire_all()
    assert message.delivery == "sent"
    assert "delivery_error" not in message.payload


def test_send_text_outside_the_window_is_recorded_not_retried(app, db_session, run_jobs, fake_wechat):
    message = _outbound(db_session, "o_li", "您的报修已完成")
    fake_wechat.fail_next(SEND_PATH, 45015)
    outbox_row = enqueue(db_session, "app.chat.jobs.send_text", "o_li", message.content, message.id,
                         retries=SEND_RETRY)
    db_session.commit()
    run_jobs()
    run_jobs()
    db_session.expire_all()
    assert message.delivery == "failed"
    assert message.payload["delivery_error"]["errcode"] == 45015
    assert len(fake_wechat.calls_to(SEND_PATH)) == 1
    assert fake_wechat.sent_messages("custom") == []
    assert db_session.get(OutboxJob, outbox_row.id).status == "done"  # the job itself finished
    if app.config["REDIS_URL"]:
        rq_job = _rq_job(app, db_session, outbox_row)
        assert rq_job.get_status() == "finished" and rq_job.retries_left == 3


def test_send_text_when_wechat_is_busy(app, db_session, run_jobs, fake_wechat):
    message = _outbound(db_session, "o_zhao", "停水通知")
    fake_wechat.fail_next(SEND_PATH, -1, times=3)  # the client's own bounded retries all meet "busy"
    outbox_row = enqueue(db_session, "app.chat.jobs.send_text", "o_zhao", message.content, message.id,
                         retries=SEND_RETRY)
    db_session.commit()
    run_jobs()
    db_session.expire_all()
    if app.config["REDIS_URL"]:  # RQ retries it later (10 s); nothing recorded as failed yet
        rq_job = _rq_job(app, db_session, outbox_row)
        assert rq_job.retries_left == 2
        assert rq_job.id in ScheduledJobRegistry(queue=get_queue(app, "default")).get_job_ids()
        assert message.delivery == "queued"
    else:  # embedded mode: the outbox row waits 10 s for its next try; nothing recorded as failed yet
        assert message.delivery == "queued"
        row = db_session.get(OutboxJob, outbox_row.id)
        assert row.status == "pending" and "WeChatError" in row.last_error
        assert 5 < (row.run_at - utcnow()).total_seconds() <= 10


def test_send_text_busy_on_every_try_is_recorded_failed_once_the_retries_are_used(app, db_session, run_jobs,
                                                                                  fake_wechat):
    message = _outbound(db_session, "o_qian", "停电通知")
    fake_wechat.fail_next(SEND_PATH, -1, times=3 * 4)  # 3 client calls per try, 1 try + 3 retries
    outbox_row = enqueue(db_session, "app.chat.jobs.send_text", "o_qian", message.content, message.id,
                         retries=SEND_RETRY)
    db_session.commit()
    run_jobs()
    if app.config["REDIS_URL"]:  # RQ's scheduler owns the retries (10, 30, 60 s): checked above
        assert _rq_job(app, db_session, outbox_row).retries_left == 2
        return
    for _ in range(3):  # embedded: make each next try due now instead of waiting for it
        db_session.expire_all()
        assert db_session.get(Message, message.id).delivery == "queued"
        db_session.execute(update(OutboxJob).where(OutboxJob.id == outbox_row.id).values(run_at=utcnow()))
        db_session.commit()
        run_jobs()
    db_session.expire_all()
    row = db_session.get(OutboxJob, outbox_row.id)
    assert row.status == "failed" and row.attempts == 4
    assert db_session.get(Message, message.id).delivery == "failed"
    assert len(fake_wechat.calls_to(SEND_PATH)) == 12


def test_send_text_without_a_message_row_still_sends(app, db_session, run_jobs, fake_wechat):
    enqueue(db_session, "app.chat.jobs.send_text", "o_sun", "您好")
    db_session.commit()
    run_jobs()
    assert [m["touser"] for m in fake_wechat.sent_messages("custom")] == ["o_sun"]
