"""Routing and escalation: a new alarm pages the staff in scope for its building with a WeChat Work card
(确认 / 处理完毕); a click on the card acknowledges it; unacknowledged, it escalates to the admins after 5
minutes (urgent) or 30 (otherwise) and reminds until someone acknowledges."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import xmltodict
from device_setup import add_device
from wechatpy.enterprise.crypto import WeChatCrypto

from app.core import periodic
from app.core.clock import utcnow
from app.devices import alarms
from app.devices.jobs import check_alarms
from app.devices.models import Alarm

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
CORP = "wwcorp0001"


@pytest.fixture
def wecom_on(app, monkeypatch):
    for key, value in {"WECOM_TOKEN": "wecom-token", "WECOM_AES_KEY": AES_KEY, "WECOM_CORP_ID": CORP,
                       "WECOM_SECRET": "wecom-secret", "WECOM_AGENT_ID": "1000002"}.items():
        monkeypatch.setitem(app.config, key, value)
    app.extensions.get("wechat_clients", {}).pop("wecom", None)
    yield WeChatCrypto("wecom-token", AES_KEY, CORP)
    app.extensions.get("wechat_clients", {}).pop("wecom", None)


@pytest.fixture
def team(app, db_session, make_community, make_staff):
    community = make_community()
    people = {}
    for key, role, scope in (("near", "repair_worker", ["30"]), ("far", "repair_worker", ["1"]),
                             ("desk", "property", []), ("boss", "admin", []), ("doc", "doctor", [])):
        person = make_staff(role, buildings=scope, community=community)
        person.wecom_userid = f"{key}_wx"
        people[key] = person
    device, _ = add_device(app, db_session, community, "lift-30-1", "lift_gateway", building_number="30",
                           location="30幢1单元电梯")
    db_session.commit()
    return community, device, people


def _cards(fake_wechat):
    return [m for m in fake_wechat.sent_messages("wecom") if m.get("msgtype") == "template_card"]


def _raise(db_session, device, severity="major", now=None):
    alarm = alarms.raise_alarm(db_session, community_id=device.community_id, type="ebike_in_lift", severity=severity,
                               now=now or utcnow(), device_id=device.id)
    db_session.commit()
    return alarm


def click(client, crypto: WeChatCrypto, userid: str, key: str):
    """A template-card button click as WeChat Work posts it; the decrypted reply text."""
    now = int(time.time())
    xml = (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
           f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
           f"<TaskId><![CDATA[t1]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
           f"<AgentID>1000002</AgentID></xml>")
    body = crypto.encrypt_message(xml, "nonce1", str(now))
    signature = xmltodict.parse(body)["xml"]["MsgSignature"]
    response = client.post("/wecom", query_string={"msg_signature": signature, "timestamp": str(now),
                                                   "nonce": "nonce1"}, data=body, content_type="text/xml")
    assert response.status_code == 200
    if response.get_data(as_text=True) == "success":
        return None
    outer = xmltodict.parse(response.get_data(as_text=True))["xml"]
    plain = crypto.decrypt_message(response.get_data(as_text=True), outer["MsgSignature"], outer["TimeStamp"],
                                   outer["Nonce"])
    return xmltodict.parse(plain)["xml"]["Content"]


def test_new_alarm_pages_the_staff_in_scope_with_a_card(db_session, team, wecom_on, run_jobs, fake_wechat):
    _community, device, _people = team
    alarm = _raise(db_session, device)
    run_jobs()
    cards = _cards(fake_wechat)
    assert len(cards) == 1
    assert cards[0]["touser"].split("|") == ["near_wx", "desk_wx"]  # not building 1's worker, not the doctor
    card = cards[0]["template_card"]
    assert card["card_type"] == "button_interaction" and "电动车进电梯" in card["main_title"]["title"]
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [("确认", f"alarm:ack:{alarm.id}"),
                                                                    ("处理完毕", f"alarm:resolve:{alarm.id}")]
    assert "已通知" in alarms.timeline(db_session, alarm.id)[-1].text


def test_card_buttons_acknowledge_and_resolve(client, db_session, team, wecom_on):
    _community, device, _people = team
    alarm = _raise(db_session, device)
    assert "不在您负责的范围" in click(client, wecom_on, "far_wx", f"alarm:ack:{alarm.id}")
    assert click(client, wecom_on, "near_wx", f"alarm:ack:{alarm.id}") == f"告警 #{alarm.id} 已确认收到。"
    db_session.expire_all()
    assert db_session.get(Alarm, alarm.id).state == "active_ack"
    assert "已标记处理完毕" in click(client, wecom_on, "desk_wx", f"alarm:resolve:{alarm.id}")
    db_session.expire_all()
    assert db_session.get(Alarm, alarm.id).state == "cleared"
    assert click(client, wecom_on, "nobody", f"alarm:ack:{alarm.id}").startswith("您的企业微信账号还没有关联")
    assert "失效" in click(client, wecom_on, "near_wx", "mystery:1")


def test_unacknowledged_alarms_escalate_to_admins_and_remind(app, db_session, team, wecom_on, run_jobs, fake_wechat,
                                                             clock, monkeypatch):
    _community, device, _people = team
    monkeypatch.setitem(app.config, "ALARM_ESCALATE_URGENT_MINUTES", 5)
    monkeypatch.setitem(app.config, "ALARM_ESCALATE_MINUTES", 30)
    start = clock.at(10, 0)
    urgent = _raise(db_session, device, "major", now=start)
    minor = alarms.raise_alarm(db_session, community_id=device.community_id, type="device_offline", severity="minor",
                               now=start, device_id=device.id)
    db_session.commit()
    run_jobs()
    fake_wechat.reset()
    clock.move_to(start + timedelta(minutes=4))
    assert check_alarms() == []
    clock.move_to(start + timedelta(minutes=5, seconds=1))
    assert check_alarms() == [urgent.id]
    run_jobs()
    cards = _cards(fake_wechat)
    assert len(cards) == 1 and "boss_wx" in cards[0]["touser"].split("|")
    assert cards[0]["template_card"]["main_title"]["title"].startswith("【升级】")
    clock.move_to(start + timedelta(minutes=10, seconds=2))
    assert check_alarms() == [urgent.id]  # a reminder every 5 minutes
    clock.move_to(start + timedelta(minutes=30, seconds=3))
    assert sorted(check_alarms()) == sorted([urgent.id, minor.id])
    db_session.expire_all()
    kinds = [e.kind for e in alarms.timeline(db_session, urgent.id)]
    assert kinds.count("escalate") == 1 and kinds.count("remind") >= 2
    near = db_session.get(type(_people["near"]), _people["near"].id)
    alarms.acknowledge(db_session, urgent.id, near, now=utcnow())
    db_session.commit()
    clock.move_to(start + timedelta(minutes=60))
    assert urgent.id not in check_alarms()


def test_shelved_suppressed_and_rejected_alarms_do_not_escalate(app, db_session, team, clock):
    _community, device, people = team
    start = clock.at(9, 0)
    alarm = _raise(db_session, device, "critical", now=start)
    alarms.shelve(db_session, alarm.id, people["desk"], minutes=60, reason="电梯维保", now=start)
    db_session.commit()
    clock.move_to(start + timedelta(minutes=20))
    assert check_alarms() == []
    clock.move_to(start + timedelta(minutes=61))
    assert check_alarms() == [alarm.id]  # shelving ended: escalation resumes


def test_jobs_are_registered_with_cron(app):
    names = {p.func for p in periodic.registered()}
    assert {"app.devices.jobs.check_alarms", "app.devices.jobs.sweep_commands",
            "app.devices.jobs.mark_offline"} <= names
