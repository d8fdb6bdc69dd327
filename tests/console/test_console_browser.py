"""A staff member on a phone-sized browser signs in, finds the pending binding and approves it."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.common.exceptions import WebDriverException as NodeGone  # "does not belong to the document"
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from app.binding.bindings import start_binding
from app.binding.models import Binding
from app.community.models import Resident
from app.core.db import db


def _no_sideways_scroll(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_staff_logs_in_and_approves_a_binding(browser, live_server, db_session, make_resident, make_staff,
                                              run_jobs, fake_wechat):
    resident = make_resident("1", "1", "101", name="王阿姨", phone="13912345678")
    far = make_resident("3", "1", "301", name="赵大爷")
    binding = start_binding(db_session, channel="oa", openid="o_wang", building="1", unit="1", room="101",
                            phone="13912345678")
    start_binding(db_session, channel="oa", openid="o_zhao", building="3", unit="1", room="301", phone=far.phone)
    make_staff("property", username="li", password="right-password", buildings=["1"])
    binding_id, code, resident_id = binding.id, binding.code, resident.id
    db_session.commit()
    db_session.close()  # the live server's requests use their own sessions: hold no transaction open
    # a POST's redirect can replace the page between finding an element and reading it
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, NodeGone))

    browser.get(f"{live_server}/console/bindings")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    assert "/console/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("li")
    browser.find_element(By.ID, "password").send_keys("wrong-password")
    browser.find_element(By.ID, "login-submit").click()
    error = wait.until(ec.presence_of_element_located((By.ID, "login-error")))
    assert "用户名或密码不正确" in error.text

    browser.find_element(By.ID, "password").send_keys("right-password")
    browser.find_element(By.ID, "login-submit").click()
    row = wait.until(ec.presence_of_element_located((By.ID, f"binding-{binding_id}")))
    assert browser.current_url.endswith("/console/bindings")  # back where the staff member was going
    assert code in row.find_element(By.CLASS_NAME, "code-digits").text
    assert "王阿姨" in row.text and "139****5678" in row.text
    assert "赵大爷" not in browser.page_source  # building 3 is outside this staff member's scope
    assert _no_sideways_scroll(browser)

    row.find_element(By.CSS_SELECTOR, "button.approve").click()
    flash = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
    assert "已确认绑定：王阿姨（1幢1单元101）" in flash.text
    assert browser.find_element(By.ID, "no-bindings").is_displayed()

    browser.find_element(By.LINK_TEXT, "概览").click()
    pending = wait.until(ec.presence_of_element_located((By.ID, "count-pending")))
    assert pending.text == "0"
    assert browser.find_element(By.ID, "count-bound").text == "1"
    assert _no_sideways_scroll(browser)

    run_jobs()
    assert db.session.get(Binding, binding_id).status == "confirmed"
    assert db.session.get(Resident, resident_id).oa_openid == "o_wang"
    assert any(m["touser"] == "o_wang" for m in fake_wechat.sent_messages("custom"))
