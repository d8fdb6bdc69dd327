"""The committee, on a phone-sized browser, accepts a wish and posts a milestone; every supporter hears of both."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.common.exceptions import WebDriverException as NodeGone  # "does not belong to the document"
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from app.chat import core as chat
from app.core.db import db
from app.notify.notify import set_preferences
from app.wishes import wishes
from app.wishes.models import Wish


def test_committee_accepts_and_posts_a_milestone_and_every_supporter_is_told(
        browser, live_server, db_session, make_resident, make_staff, run_jobs, fake_wechat):
    wang = make_resident("3", "2", "1201", name="王阿姨", openid="o_wang")
    supporters = [wang, make_resident("3", "2", "1202", name="李叔叔", openid="o_li"),
                  make_resident("5", "1", "301", name="张奶奶", openid="o_zhang")]
    for resident in supporters:  # delivered now whatever the wall clock says (no 22:00–07:00 deferral)
        set_preferences(db_session, resident.id, quiet_hours=False)
    wishes.set_threshold(db_session, wang.community_id, mode="absolute", value=3)
    chat.handle_text(db_session, channel="oa", openid="o_wang", text="希望装个自助打印机")
    chat.handle_text(db_session, channel="oa", openid="o_wang", text="确认")
    for openid in ("o_li", "o_zhang"):  # neighbours are offered the same wish and support it
        assert "类似的心愿" in chat.handle_text(db_session, channel="oa", openid=openid, text="想要个打印机")
        assert "已为您支持" in chat.handle_text(db_session, channel="oa", openid=openid, text="支持")
    wish = db_session.query(Wish).one()
    assert (wish.status, wish.supports_count) == ("under_review", 3)
    make_staff("committee", username="weiyuan", password="right-password")
    wish_id = wish.id
    db_session.commit()
    run_jobs()  # "threshold reached" to the three supporters
    before = len(fake_wechat.sent_messages("custom"))
    db_session.close()
    # a POST's redirect can replace the page between finding an element and reading it
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, NodeGone))

    browser.get(f"{live_server}/console/wishes")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    browser.find_element(By.ID, "username").send_keys("weiyuan")
    browser.find_element(By.ID, "password").send_keys("right-password")
    browser.find_element(By.ID, "login-submit").click()
    row = wait.until(ec.presence_of_element_located((By.ID, f"wish-{wish_id}")))
    assert "自助打印机" in row.text and "3/3人支持" in row.text
    row.find_element(By.CLASS_NAME, "wish-link").click()

    wait.until(ec.presence_of_element_located((By.ID, "accept-note"))).send_keys("物业大厅提供场地，运营商免费投放")
    browser.find_element(By.ID, "accept").click()
    flash = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash-success")))
    assert "已采纳" in flash.text
    percentage = wait.until(ec.presence_of_element_located((By.ID, "milestone-percentage")))
    percentage.clear()
    percentage.send_keys("50")
    browser.find_element(By.ID, "milestone-note").send_keys("设备已到货，本周五安装")
    browser.find_element(By.ID, "milestone").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-success"), "已发布进展"))
    assert browser.find_element(By.ID, "wish-status").text.startswith("建设中")
    assert "50% · 设备已到货" in browser.find_element(By.ID, "milestones").text
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    run_jobs()
    sent = fake_wechat.sent_messages("custom")[before:]
    for openid in ("o_wang", "o_li", "o_zhang"):
        texts = [m["text"]["content"] for m in sent if m["touser"] == openid]
        assert any("已被业委会采纳" in t and "物业大厅提供场地" in t for t in texts), (openid, texts)
        assert any("完成50%" in t and "设备已到货" in t for t in texts), (openid, texts)
    db.session.expire_all()
    assert db.session.get(Wish, wish_id).progress == 50
