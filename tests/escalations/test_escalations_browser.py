"""A staff member on a phone-sized browser signs in, claims an escalation, replies and resolves it."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.common.exceptions import WebDriverException as NodeGone  # "does not belong to the document"
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from app.chat.core import handle_text
from app.chat.models import Conversation
from app.core.db import db
from app.escalations.models import CannedReply, Escalation


def test_staff_claims_replies_and_resolves(browser, live_server, db_session, make_resident, make_staff,
                                           run_jobs, fake_wechat):
    make_resident("1", "1", "101", name="王阿姨", openid="o_wang")
    staff = make_staff("property", username="li", password="right-password", buildings=["1"])
    db_session.add(CannedReply(community_id=staff.community_id, title="上门", body="维修师傅下午两点上门"))
    handle_text(db_session, channel="oa", openid="o_wang", text="转人工")
    escalation_id = db_session.query(Escalation.id).scalar()
    db_session.commit()
    db_session.close()
    # a POST's redirect can replace the page between finding an element and reading it
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, NodeGone))

    browser.get(f"{live_server}/console/escalations")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    browser.find_element(By.ID, "username").send_keys("li")
    browser.find_element(By.ID, "password").send_keys("right-password")
    browser.find_element(By.ID, "login-submit").click()
    row = wait.until(ec.presence_of_element_located((By.ID, f"esc-{escalation_id}")))
    assert "王阿姨" in row.text and "转人工" in row.text
    assert browser.find_element(By.ID, "count-waiting").text == "1"
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    row.find_element(By.CLASS_NAME, "esc-link").click()
    wait.until(ec.presence_of_element_located((By.ID, "claim"))).click()
    flash = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
    assert "已接手" in flash.text
    assert browser.find_element(By.ID, "status-label").text == "处理中"

    browser.find_element(By.CSS_SELECTOR, "#canned option[value='维修师傅下午两点上门']").click()
    assert browser.find_element(By.ID, "reply-text").get_attribute("value") == "维修师傅下午两点上门"
    browser.find_element(By.ID, "send-reply").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-success"), "回复已发出"))
    run_jobs()
    sent = [m["text"]["content"] for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]
    assert sent == ["物业李师傅回复：维修师傅下午两点上门"]
    # the page learns of the delivery by polling, without a reload
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".msg.staff .delivery"), "已送达（客服消息）"))

    browser.execute_script("window.confirm = function () { return true; };")
    browser.find_element(By.ID, "resolve").click()
    wait.until(ec.presence_of_element_located((By.ID, "resolved-note")))
    db.session.expire_all()
    escalation = db.session.get(Escalation, escalation_id)
    assert escalation.status == "resolved" and escalation.first_response_at is not None
    assert db.session.get(Conversation, escalation.conversation_id).state == "resolved"
