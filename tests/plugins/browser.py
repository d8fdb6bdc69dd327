"""Browser fixtures: the app on a live loopback server, and headless Debian Chromium driven by Selenium.

Chromium missing: the browser tests skip on a developer machine, but fail when CI=true.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
)
PHONE_WINDOW = "--window-size=390,844"  # the console must work on a phone first


@pytest.fixture
def live_server(app):
    """The test app served on a loopback port; yields its base URL.

    Single-threaded on purpose: the in-memory SQLite test database is one shared connection, and a
    single-threaded werkzeug server speaks HTTP/1.0, so the browser's requests queue instead of blocking.
    """
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a fresh profile; never downloads anything (no Selenium Manager)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        message = f"Chromium not installed ({', '.join(missing)}): apt-get install -y chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROME_FLAGS, PHONE_WINDOW, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def replaced(element):
    """A wait condition: the element's page was replaced (a POST redirected). Chromium reports a node
    from a replaced document either as a stale element or as "Node with given id does not belong to
    the document"; both mean the same here."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def check(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    return check
