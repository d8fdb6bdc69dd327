"""The escalation queue through Flask's test client: filters, scope, claim, reply reaching WeChat, notes, transfer,
resolve, polling JSON, CSRF and session fixation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from console_forms import csrf_token, login, post
from sqlalchemy import select

from app.chat.models import Conversation, Message
from app.core.clock import utcnow
from app.core.db import db
from app.escalations import canned_replies
from app.escalations.models import CannedReply, Escalation, EscalationNote


@pytest.fixture
def setup(wx, make_resident, make_staff, db_session):
    """Two residents in buildings 1 and 3 who asked for a person; staff for building 1 and for all."""
    make_resident("1", "1", "101", name="王阿姨", openid="o_wang")
    make_resident("3", "1", "301", name="赵大爷", openid="o_zhao")
    li = make_staff("property", username="li", buildings=["1"])
    boss = make_staff("admin", username="boss")
    worker = make_staff("repair_worker", username="fixer")
    db_session.add(CannedReply(community_id=li.community_id, title="上门", body="师傅马上上门"))
    db_session.commit()
    wx.say("o_wang", "转人工")
    wx.say("o_zhao", "有人晕倒了")
    db.session.expire_all()
    wang, zhao = db.session.scalars(select(Escalation).order_by(Escalation.id)).all()
    return {"li": li, "boss": boss, "worker": worker, "wang": wang.id, "zhao": zhao.id}


def _esc(escalation_id: int) -> Escalation:
    db.session.expire_all()
    return db.session.get(Escalation, escalation_id)


def test_queue_lists_only_what_is_in_scope_and_filters(app, setup):
    client = app.test_client()
    login(client, "li")
    page = client.get("/console/escalations").get_data(as_text=True)
    assert f"#{setup['wang']}" in page and f"#{setup['zhao']}" not in page  # building 3 is not li's
    data = client.get("/console/api/escalations?filter=waiting").get_json()
    assert [r["id"] for r in data["rows"]] == [setup["wang"]] and data["counts"]["waiting"] == 1
    boss = app.test_client()
    login(boss, "boss")
    data = boss.get("/console/api/escalations?filter=urgent").get_json()
    assert [r["id"] for r in data["rows"]] == [setup["zhao"]]
    data = boss.get("/console/api/escalations?filter=waiting").get_json()
    assert [r["id"] for r in data["rows"]] == [setup["zhao"], setup["wang"]]  # urgent first
    # SLA breached: push the first-response target into the past
    _esc(setup["wang"]).first_response_due = utcnow() - timedelta(minutes=1)
    db.session.commit()
    data = boss.get("/console/api/escalations?filter=breached").get_json()
    assert [r["id"] for r in data["rows"]] == [setup["wang"]] and data["rows"][0]["breached"]


def test_claim_reply_resolve_and_the_reply_reaches_wechat(app, setup, wx, run_jobs, fake_wechat):
    client = app.test_client()
    login(client, "li")
    e = setup["wang"]
    view = client.get(f"/console/escalations/{e}").get_data(as_text=True)
    assert "转人工" in view and "1幢1单元101" in view and "师傅马上上门" in view
    assert post(client, f"/console/escalations/{e}/claim").status_code == 303
    assert _esc(e).status == "with_staff" and _esc(e).assignee_id == setup["li"].id
    assert post(client, f"/console/escalations/{e}/reply", {"text": "您好，我是物业小李"}).status_code == 303
    run_jobs()
    sent = [m["text"]["content"] for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]
    assert sent == ["物业李师傅回复：您好，我是物业小李"]
    assert _esc(e).first_response_at is not None
    poll = client.get(f"/console/api/escalations/{e}").get_json()
    staff_msgs = [m for m in poll["messages"] if m["who"] == "staff"]
    assert staff_msgs[0]["delivery"] == "已送达（客服消息）"
    # the resident's answer shows up in the poll; the bot stays silent
    assert wx.say("o_wang", "好的谢谢") is None
    after = staff_msgs[0]["id"]
    poll = client.get(f"/console/api/escalations/{e}?after={after}").get_json()
    assert [m["text"] for m in poll["messages"]] == ["好的谢谢"]
    assert post(client, f"/console/escalations/{e}/note", {"body": "住户说下午在家"}).status_code == 303
    assert db.session.scalar(select(EscalationNote.body)) == "住户说下午在家"
    assert post(client, f"/console/escalations/{e}/resolve").status_code == 303
    assert _esc(e).status == "resolved"
    conversation = db.session.get(Conversation, _esc(e).conversation_id)
    assert conversation.state == "resolved"
    assert wx.say("o_wang", "你好").startswith("王阿姨")  # the bot is back


def test_outside_the_window_the_reply_goes_as_a_template_message(app, setup, run_jobs, fake_wechat, monkeypatch):
    monkeypatch.setitem(app.config, "ESCALATION_REPLY_LINK", "https://linli.example/chat")
    e = _esc(setup["wang"])
    conversation = db.session.get(Conversation, e.conversation_id)
    conversation.last_inbound_at = utcnow() - timedelta(days=3)
    db.session.commit()
    client = app.test_client()
    login(client, "li")
    post(client, f"/console/escalations/{e.id}/reply", {"text": "您的问题已经处理"})
    run_jobs()
    [template] = [m for m in fake_wechat.sent_messages("template") if m["touser"] == "o_wang"]
    assert "您的问题已经处理" in template["data"]["first"]["value"]
    assert template["url"] == "https://linli.example/chat"  # the link to read the whole conversation
    poll = client.get(f"/console/api/escalations/{e.id}").get_json()
    assert [m["delivery"] for m in poll["messages"] if m["who"] == "staff"] == ["已送达（模板消息）"]


def test_a_refused_reply_is_shown_as_not_delivered(app, setup, run_jobs, fake_wechat):
    fake_wechat.fail_next("message/custom/send", 40003, times=5)
    fake_wechat.fail_next("message/template/send", 40003, times=5)
    client = app.test_client()
    login(client, "li")
    post(client, f"/console/escalations/{setup['wang']}/reply", {"text": "在吗"})
    run_jobs()
    poll = client.get(f"/console/api/escalations/{setup['wang']}").get_json()
    [label] = [m["delivery"] for m in poll["messages"] if m["who"] == "staff"]
    assert label.startswith("未送达")


def test_transfer_to_a_colleague_and_claims_do_not_collide(app, setup, make_staff, db_session):
    other = make_staff("property", username="zhang", buildings=["1"])
    db_session.commit()
    li = app.test_client()
    login(li, "li")
    e = setup["wang"]
    post(li, f"/console/escalations/{e}/claim")
    zhang = app.test_client()
    login(zhang, "zhang")
    page = post(zhang, f"/console/escalations/{e}/claim", follow_redirects=True).get_data(as_text=True)
    assert "已由李师傅接手" in page and _esc(e).assignee_id == setup["li"].id
    post(li, f"/console/escalations/{e}/transfer", {"to": str(other.id)})
    assert _esc(e).assignee_id == other.id
    mine = zhang.get("/console/api/escalations?filter=mine").get_json()
    assert [r["id"] for r in mine["rows"]] == [e]
    # transferring to someone whose scope does not cover building 1 is refused
    far = make_staff("property", username="far", buildings=["9"])
    db_session.commit()
    page = post(zhang, f"/console/escalations/{e}/transfer", {"to": str(far.id)}, follow_redirects=True)
    assert "不能转交" in page.get_data(as_text=True) and _esc(e).assignee_id == other.id


def test_staff_outside_their_scope_or_role_are_refused(app, setup):
    li = app.test_client()
    login(li, "li")
    zhao = setup["zhao"]  # building 3
    assert li.get(f"/console/escalations/{zhao}").status_code == 403
    assert li.get(f"/console/api/escalations/{zhao}").status_code == 403
    for action, data in (("claim", {}), ("reply", {"text": "x"}), ("resolve", {}), ("note", {"body": "x"})):
        assert post(li, f"/console/escalations/{zhao}/{action}", data).status_code == 403
    assert _esc(zhao).status == "waiting" and db.session.scalar(select(Message).where(
        Message.direction == "out", Message.payload.is_not(None), Message.content == "x")) is None
    conversation_id = _esc(zhao).conversation_id
    assert post(li, f"/console/conversations/{conversation_id}/takeover").status_code == 403
    worker = app.test_client()
    login(worker, "fixer")
    assert worker.get("/console/escalations").status_code == 403
    assert post(worker, f"/console/escalations/{setup['wang']}/claim").status_code == 403
    assert worker.get("/console/escalations/99999999999").status_code == 404


def test_every_action_needs_the_csrf_token(app, setup):
    client = app.test_client()
    login(client, "li")
    e = setup["wang"]
    for action in ("claim", "reply", "note", "resolve", "transfer"):
        response = client.post(f"/console/escalations/{e}/{action}", data={"text": "x", "body": "x"})
        assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
        response = client.post(f"/console/escalations/{e}/{action}", data={"text": "x", "csrf_token": "forged"})
        assert response.status_code == 400
    assert _esc(e).status == "waiting"


def test_login_rotates_the_session_so_a_planted_cookie_is_worthless(app, setup):
    attacker = app.test_client()
    token_before = csrf_token(attacker)
    planted = attacker.get_cookie("session").value
    victim = app.test_client()
    victim.set_cookie("session", planted)  # session fixation: the victim logs in with the attacker's cookie
    assert login(victim, "li").status_code == 303
    after = victim.get_cookie("session").value
    assert after != planted
    with victim.session_transaction() as sess:
        assert sess["csrf_token"] != token_before
    # the attacker's copy of the pre-login cookie does not get into the queue
    assert attacker.get("/console/escalations").status_code == 302
    assert attacker.get("/console/api/escalations").status_code == 401


def test_unbound_users_can_be_answered_and_staff_take_over_any_conversation(app, wx, make_staff, db_session,
                                                                            run_jobs, fake_wechat):
    make_staff("property", username="li")
    db_session.commit()
    wx.say("o_stranger", "你好")
    conversation = db.session.scalar(select(Conversation).where(Conversation.openid == "o_stranger"))
    client = app.test_client()
    login(client, "li")
    response = post(client, f"/console/conversations/{conversation.id}/takeover")
    assert response.status_code == 303
    e = db.session.scalar(select(Escalation))
    assert e.trigger == "takeover" and e.status == "with_staff"
    post(client, f"/console/escalations/{e.id}/reply", {"text": "您好，需要帮忙吗"})
    run_jobs()
    assert any(m["touser"] == "o_stranger" for m in fake_wechat.sent_messages("custom"))
    assert wx.say("o_stranger", "要的") is None


def test_the_conversations_page_lists_bot_conversations_in_scope_for_takeover(app, wx, make_resident,
                                                                              make_staff, db_session):
    make_resident("1", "1", "101", name="王阿姨", openid="o_wang")
    make_resident("3", "1", "301", name="赵大爷", openid="o_zhao")
    make_staff("property", username="li", buildings=["1"])
    db_session.commit()
    wx.say("o_wang", "3号楼电梯坏了")
    wx.say("o_zhao", "你好")
    client = app.test_client()
    login(client, "li")
    page = client.get("/console/conversations").get_data(as_text=True)
    assert "王阿姨" in page and "3号楼电梯坏了" in page and "赵大爷" not in page
    assert "王阿姨" not in client.get("/console/conversations?q=赵").get_data(as_text=True)
    wang = db.session.scalar(select(Conversation).where(Conversation.openid == "o_wang"))
    response = post(client, f"/console/conversations/{wang.id}/takeover")
    assert response.status_code == 303 and "/console/escalations/" in response.headers["Location"]
    assert "王阿姨" not in client.get("/console/conversations").get_data(as_text=True)  # staff hold it now


def test_admins_manage_canned_replies_and_others_only_use_them(app, setup):
    admin = app.test_client()
    login(admin, "boss")
    post(admin, "/console/escalations/canned", {"title": "停水", "body": "今天下午维修管道，17点前恢复供水"})
    canned = db.session.scalar(select(CannedReply).where(CannedReply.title == "停水"))
    li = app.test_client()
    login(li, "li")
    assert "17点前恢复供水" in li.get(f"/console/escalations/{setup['wang']}").get_data(as_text=True)
    assert post(li, "/console/escalations/canned", {"title": "x", "body": "y"}).status_code == 403
    assert post(li, f"/console/escalations/canned/{canned.id}/delete").status_code == 403
    page = post(admin, "/console/escalations/canned", {"title": "", "body": ""}, follow_redirects=True)
    assert "都要填写" in page.get_data(as_text=True)
    post(admin, f"/console/escalations/canned/{canned.id}/delete")
    db.session.expire_all()
    assert db.session.get(CannedReply, canned.id) is None


def test_the_demo_seed_adds_canned_replies_once(db_session):
    from app.community.demo import seed_demo

    seed_demo(db_session)
    seed_demo(db_session)
    titles = db_session.scalars(select(CannedReply.title)).all()
    assert sorted(titles) == sorted(title for title, _body in canned_replies.DEMO_CANNED)
