"""Staff on a phone-sized browser accept, assign and resolve a repair; the resident is told in WeChat."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.common.exceptions import WebDriverException as NodeGone  # "does not belong to the document"
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.chat import core as chat
from app.core.db import db
from app.tickets.models import Ticket


def test_staff_accept_assign_and_resolve_and_the_resident_hears_each_step(
        browser, live_server, db_session, make_resident, make_staff, run_jobs, fake_wechat):
    make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    chat.handle_text(db_session, channel="oa", openid="o_wang", text="3号楼电梯坏了")
    reply = chat.handle_text(db_session, channel="oa", openid="o_wang", text="确认")
    ticket = db_session.query(Ticket).one()
    assert ticket.number in reply
    make_staff("property", username="li", password="right-password")
    worker = make_staff("repair_worker", username="zhang", buildings=["3"])
    ticket_id, number, worker_id = ticket.id, ticket.number, worker.id
    db_session.commit()
    run_jobs()  # the new-ticket staff alert
    db_session.close()
    # a POST's redirect can replace the page between finding an element and reading it
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, NodeGone))

    browser.get(f"{live_server}/console/tickets")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    browser.find_element(By.ID, "username").send_keys("li")
    browser.find_element(By.ID, "password").send_keys("right-password")
    browser.find_element(By.ID, "login-submit").click()
    row = wait.until(ec.presence_of_element_located((By.ID, f"ticket-{ticket_id}")))
    assert "3幢" in row.text and "已提交，待受理" in row.text
    row.find_element(By.CLASS_NAME, "ticket-link").click()

    wait.until(ec.element_to_be_clickable((By.ID, "accept"))).click()
    flash = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
    assert f"已受理：{number}" in flash.text
    Select(browser.find_element(By.ID, "assignee")).select_by_value(str(worker_id))
    browser.find_element(By.ID, "assign").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-success"), "已派单"))
    assert browser.find_element(By.ID, "ticket-assignee").text == "李师傅"
    browser.find_element(By.ID, "resolve-note").send_keys("更换了门机板，已恢复运行")
    browser.find_element(By.ID, "resolve").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-success"), "已办结"))
    assert "已处理（已修好" in browser.find_element(By.ID, "ticket-status").text
    timeline = browser.find_element(By.ID, "timeline").text
    assert "更换了门机板" in timeline and "accepted" in timeline
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    run_jobs()
    to_wang = [m["text"]["content"] for m in fake_wechat.sent_messages("custom") if m["touser"] == "o_wang"]
    assert any("已受理" in m and number in m for m in to_wang)
    assert any("已派给李师傅" in m for m in to_wang)
    assert any("已修好" in m and "评分" in m for m in to_wang)
    assert db.session.get(Ticket, ticket_id).status == "resolved"
