"""WeChat Work: alerts, staff answering by quoting the escalation number; SLA breaches reach a supervisor."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
import xmltodict
from sqlalchemy import select
from wechatpy.enterprise.crypto import WeChatCrypto

from app.core.clock import utcnow
from app.core.db import db
from app.escalations import business_hours as bh
from app.escalations.jobs import check_sla
from app.escalations.models import Escalation

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat Work issues them
CORP = "wwcorp0001"


@pytest.fixture
def wecom(app, monkeypatch):
    for key, value in {"WECOM_TOKEN": "wecom-token", "WECOM_AES_KEY": AES_KEY, "WECOM_CORP_ID": CORP,
                       "WECOM_SECRET": "wecom-secret", "WECOM_AGENT_ID": "1000002"}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.get("wechat_clients", {}).pop("wecom", None)
    yield WeChatCrypto("wecom-token", AES_KEY, CORP)
    app.extensions.get("wechat_clients", {}).pop("wecom", None)


_ids = iter(range(5_000_000, 6_000_000))


def staff_says(client, crypto: WeChatCrypto, userid: str, content: str, msg_id: int | None = None):
    """Post a WeChat Work text message like its servers do; returns (status, decrypted reply or None)."""
    msg_id = msg_id or next(_ids)
    xml = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>")
    nonce, timestamp = "nonce123", str(int(time.time()))
    body = crypto.encrypt_message(xml, nonce, timestamp)
    signature = xmltodict.parse(body)["xml"]["MsgSignature"]
    response = client.post("/wecom", query_string={"msg_signature": signature, "timestamp": timestamp,
                                                   "nonce": nonce}, data=body, content_type="text/xml")
    if response.status_code != 200 or response.get_data(as_text=True) == "success":
        return response.status_code, None
    outer = xmltodict.parse(response.get_data(as_text=True))["xml"]
    plain = crypto.decrypt_message(response.get_data(as_text=True), outer["MsgSignature"], outer["TimeStamp"],
                                   outer["Nonce"])
    return 200, xmltodict.parse(plain)["xml"]["Content"]


@pytest.fixture
def escalated(wx, make_resident, make_staff, db_session):
    make_resident("1", "1", "101", name="王阿姨", openid="o_wang")
    li = make_staff("property", username="li", buildings=["1"])
    li.wecom_userid = "li_wx"
    far = make_staff("property", username="far", buildings=["9"])
    far.wecom_userid = "far_wx"
    boss = make_staff("admin", username="boss")
    boss.wecom_userid = "boss_wx"
    db_session.commit()
    wx.say("o_wang", "转人工")
    return db.session.scalar(select(Escalation.id))


def test_staff_answer_from_wechat_work_by_quoting_the_number(client, wecom, escalated, run_jobs, fake_wechat):
    status, text = staff_says(client, wecom, "li_wx", f"#{escalated} 师傅下午两点上门", msg_id=777)
    assert status == 200 and text.startswith(f"已发送给住户（#{escalated}）")
    assert staff_says(client, wecom, "li_wx", f"#{escalated} 师傅下午两点上门", msg_id=777) == (200, None)  # retry
    run_jobs()
    sent = [m["text"]["content"] for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]
    assert sent == ["物业李师傅回复：师傅下午两点上门"]
    db.session.expire_all()
    escalation = db.session.get(Escalation, escalated)
    assert escalation.status == "with_staff" and escalation.first_response_at is not None


def test_full_width_quotes_work_too(client, wecom, escalated):
    status, text = staff_says(client, wecom, "li_wx", f"＃{escalated}：好的，马上安排")
    assert text.startswith(f"已发送给住户（#{escalated}）")


def test_wechat_work_refuses_unknown_staff_unquoted_text_and_other_scopes(client, wecom, escalated):
    assert staff_says(client, wecom, "nobody", f"#{escalated} hi")[1].startswith("您的企业微信账号还没有关联")
    assert staff_says(client, wecom, "li_wx", "师傅下午到")[1].startswith("请以转人工编号开头")
    assert "不在您负责的范围内" in staff_says(client, wecom, "far_wx", f"#{escalated} hi")[1]
    assert "没有找到" in staff_says(client, wecom, "li_wx", "#99999 hi")[1]


def test_wecom_rejects_forged_posts_and_is_off_without_config(client, app, wecom, monkeypatch):
    forged = client.post("/wecom", query_string={"msg_signature": "x", "timestamp": "1", "nonce": "n"},
                         data="<xml><Encrypt>AAAA</Encrypt></xml>", content_type="text/xml")
    assert (forged.status_code, forged.get_json()["error"]["code"]) == (403, "bad_signature")
    garbage = client.post("/wecom", query_string={"msg_signature": "x"}, data=b"\x00not xml")
    assert (garbage.status_code, garbage.get_json()["error"]["code"]) == (400, "bad_xml")
    monkeypatch.setitem(app.config, "WECOM_TOKEN", None)
    assert client.post("/wecom", data="<xml/>").status_code == 404


def test_wecom_url_check_echoes_the_decrypted_echostr(client, wecom):
    nonce, timestamp = "n1", str(int(time.time()))
    encrypted = wecom.encrypt_message("<xml/>", nonce, timestamp)
    echostr = xmltodict.parse(encrypted)["xml"]["Encrypt"]
    from wechatpy.utils import WeChatSigner
    signer = WeChatSigner()
    signer.add_data("wecom-token", timestamp, nonce, echostr)
    response = client.get("/wecom", query_string={"msg_signature": signer.signature, "timestamp": timestamp,
                                                  "nonce": nonce, "echostr": echostr})
    assert response.status_code == 200 and response.get_data(as_text=True) == "<xml/>"


def test_sla_breach_goes_to_a_supervisor_once(app, wecom, escalated, run_jobs, fake_wechat):
    run_jobs()  # the staff alert: one message to the building's staff and the supervisor
    assert [m["touser"] for m in fake_wechat.sent_messages("wecom")] == ["li_wx|boss_wx"]
    escalation = db.session.get(Escalation, escalated)
    escalation.first_response_due = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert check_sla() == 1
    assert check_sla() == 0  # told once
    run_jobs()
    sent = fake_wechat.sent_messages("wecom")
    assert len(sent) == 2  # the alert and exactly one breach notice
    breach = sent[-1]
    assert breach["touser"] == "boss_wx" and breach["text"]["content"].startswith(f"【超时】转人工 #{escalated}")
    db.session.expire_all()
    assert db.session.get(Escalation, escalated).first_response_breached_at is not None


def test_check_sla_is_registered_with_cron(app):
    from app.core.redis_conn import get_redis
    from workers.cron import load_cron

    jobs = {job.name: job for job in load_cron(get_redis(app)).get_jobs()}
    assert jobs["app.escalations.jobs.check_sla"].interval == 60


SH = "Asia/Shanghai"


def _utc(local: str) -> datetime:
    """A Shanghai wall-clock time as naive UTC."""
    from zoneinfo import ZoneInfo
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(SH)).astimezone(
        ZoneInfo("UTC")).replace(tzinfo=None)


def test_business_hours_count_only_working_minutes():
    hours = bh.from_config({"ESCALATION_BUSINESS_DAYS": "0-4", "ESCALATION_BUSINESS_START": "08:30",
                            "ESCALATION_BUSINESS_END": "17:30", "ESCALATION_FIRST_RESPONSE_MINUTES": "30",
                            "ESCALATION_RESOLUTION_MINUTES": "120"})
    assert hours.days == (0, 1, 2, 3, 4) and hours.first_response_minutes == 30
    # Wednesday 10:00 -> 10:30 and 12:00
    assert bh.due_times(hours, _utc("2026-11-25T10:00"), urgent=False) == (_utc("2026-11-25T10:30"),
                                                                            _utc("2026-11-25T12:00"))
    # Friday 17:20: 10 minutes today, the rest on Monday morning
    assert bh.add_business_minutes(hours, _utc("2026-11-27T17:20"), 30) == _utc("2026-11-30T08:50")
    # Saturday night: Monday 08:30 + 30
    assert bh.add_business_minutes(hours, _utc("2026-11-28T23:00"), 30) == _utc("2026-11-30T09:00")
    # urgent is wall clock
    assert bh.due_times(hours, _utc("2026-11-28T23:00"), urgent=True)[0] == _utc("2026-11-28T23:05")
    assert bh.is_open(hours, _utc("2026-11-25T09:00")) and not bh.is_open(hours, _utc("2026-11-29T09:00"))
    # a calendar with no working days at all still answers
    never = bh.from_config({"ESCALATION_BUSINESS_DAYS": ","})
    assert bh.add_business_minutes(never, _utc("2026-11-25T10:00"), 30) > _utc("2026-11-25T10:00")


def test_configured_hours_set_the_due_times_when_staff_are_alerted(app, monkeypatch, escalated, run_jobs):
    monkeypatch.setitem(app.config, "ESCALATION_FIRST_RESPONSE_MINUTES", 90)
    db.session.get(Escalation, escalated).alerted_at = None
    db.session.commit()
    from app.escalations.jobs import alert_staff
    assert alert_staff(escalated) == "console"  # WeChat Work is not configured here
    db.session.expire_all()
    escalation = db.session.get(Escalation, escalated)
    expected = bh.due_times(bh.from_config(app.config), escalation.created_at, urgent=False)[0]
    assert escalation.first_response_due == expected


def test_the_assignee_hears_of_new_resident_messages_at_most_every_few_minutes(app, wecom, wx, escalated,
                                                                               run_jobs, fake_wechat):
    from app.community.models import Staff
    from app.escalations import escalations

    li = db.session.scalar(select(Staff).where(Staff.username == "li"))
    escalations.claim(db.session, escalated, li)
    db.session.commit()
    run_jobs()
    before = len(fake_wechat.sent_messages("wecom"))
    assert "结束人工" in wx.say("o_wang", "师傅几点到")  # the resident's one note while staff hold it
    assert wx.say("o_wang", "在吗") is None
    run_jobs()
    pings = fake_wechat.sent_messages("wecom")[before:]
    assert [(p["touser"], p["text"]["content"]) for p in pings] == [
        ("li_wx", f"住户有新消息 #{escalated}（1幢1单元101 王阿姨）：“师傅几点到”")]
