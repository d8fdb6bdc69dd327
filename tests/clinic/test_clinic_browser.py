"""A family doctor on a phone-sized browser: their residents red first, a health file with readings and
bookings, a colour set with a note, a resident checked in; a resident outside the area is refused."""

from __future__ import annotations

from datetime import timedelta

from clinic_world import build_clinic
from plugins.browser import replaced
from selenium.common.exceptions import StaleElementReferenceException
from selenium.common.exceptions import WebDriverException as NodeGone  # "does not belong to the document"
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from app.clinic import bookings, clinic
from app.clinic.models import Booking, FamilyDoctorMember, FamilyDoctorTeam, HealthAccessLog
from app.core.clock import utcnow
from app.core.db import db


def test_doctor_reads_their_residents_sets_a_colour_and_checks_one_in(
        browser, live_server, db_session, make_resident, make_staff):
    wang = make_resident("3", "2", "1201", name="王阿姨")
    zhao = make_resident("3", "2", "1202", name="赵大爷")
    sun = make_resident("8", "1", "301", name="孙奶奶")
    doctor = make_staff("doctor", username="dr_chen", password="right-password")
    team = FamilyDoctorTeam(community_id=wang.community_id, name="陈文团队")
    db_session.add(team)
    db_session.flush()
    db_session.add(FamilyDoctorMember(team_id=team.id, staff_id=doctor.id))
    for r in (wang, zhao):
        clinic.sign_household(db_session, r.household_id, team.id)
    clinic.record_measurement(db_session, zhao.id, "blood_pressure", {"systolic": 172, "diastolic": 104})
    clinic.record_measurement(db_session, wang.id, "bmi", {"value": 23})
    built = build_clinic(db_session, wang.community_id, doctor=doctor)
    slot = built.slot(db_session, "blood_pressure", utcnow() + timedelta(days=1))
    booking = bookings.create_booking(db_session, wang, slot.id)
    ids = {"wang": wang.id, "zhao": zhao.id, "sun": sun.id, "booking": booking.id}
    db_session.commit()
    db_session.close()
    # a POST's redirect can replace the page between finding an element and reading it
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException, NodeGone))

    browser.get(f"{live_server}/console/clinic")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    browser.find_element(By.ID, "username").send_keys("dr_chen")
    browser.find_element(By.ID, "password").send_keys("right-password")
    browser.find_element(By.ID, "login-submit").click()
    listing = wait.until(ec.presence_of_element_located((By.ID, "resident-list")))
    rows = [li.get_attribute("id") for li in listing.find_elements(By.CSS_SELECTOR, "li.row")]
    assert rows == [f"resident-{ids['zhao']}", f"resident-{ids['wang']}"]  # red first; 孙奶奶 is not theirs
    assert "红色" in browser.find_element(By.ID, f"resident-{ids['zhao']}").text
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    browser.find_element(By.ID, f"resident-{ids['wang']}").find_element(By.CLASS_NAME, "resident-link").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "resident-name"), "王阿姨"))
    assert "BMI" in browser.find_element(By.ID, "measurements").text
    assert "已预约" in browser.find_element(By.ID, f"booking-{ids['booking']}").text
    Select(browser.find_element(By.ID, "colour-select")).select_by_value("yellow")
    browser.find_element(By.ID, "colour-note").send_keys("体重偏轻，三个月后复查")
    form = browser.find_element(By.ID, "colour-form")
    browser.find_element(By.ID, "colour-save").click()
    wait.until(replaced(form))  # the post redirected to a fresh page
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-success"), "健康颜色已更新"))
    assert "黄色" in browser.find_element(By.ID, "health-colour").text
    assert "三个月后复查" in browser.find_element(By.ID, "health-colour").text
    row = browser.find_element(By.ID, f"booking-{ids['booking']}")
    row.find_element(By.CLASS_NAME, "check-in").click()
    wait.until(replaced(row))
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash-success"), "已签到"))
    assert "已签到" in browser.find_element(By.ID, f"booking-{ids['booking']}").text

    browser.get(f"{live_server}/console/clinic/residents/{ids['sun']}")
    assert "不在您负责的范围内" in wait.until(ec.presence_of_element_located((By.TAG_NAME, "body"))).text
    db.session.expire_all()
    assert db.session.get(Booking, ids["booking"]).status == "checked_in"
    actions = [(a.resident_id, a.action) for a in db.session.query(HealthAccessLog).order_by(HealthAccessLog.id)]
    assert (ids["sun"], "refused") in actions and actions.count((ids["wang"], "view")) >= 2
