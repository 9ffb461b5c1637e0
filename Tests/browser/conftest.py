"""Fixtures of the dashboard's browser tests: one real stack per run (stack.py), headless
Chromium through Debian's chromedriver, and a `page` helper that logs in, waits and saves
a screenshot of every page it checks (SLUICE_UI_SCREENSHOTS, default .build/ui-screenshots)."""
import os
import re
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

from stack import Receiver, Stack, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
SHOTS = os.environ.get("SLUICE_UI_SCREENSHOTS", os.path.join(ROOT, ".build/ui-screenshots"))


@pytest.fixture(scope="session")
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def stack():
    bin_dir = os.environ.get("SLUICE_BIN")
    assert bin_dir, "set SLUICE_BIN to the folder with sluice and sluice-admin (Tests/browser/run.sh does)"
    work = tempfile.mkdtemp(prefix="sluice-browser-")
    s = Stack(bin_dir, ROOT, work)
    try:
        s.up()
        yield s
    finally:
        s.stop()
        print(f"\nbrowser stack logs: {work}")


@pytest.fixture(scope="session")
def driver():
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking"]:
        options.add_argument(flag)
    options.binary_location = os.environ.get("SLUICE_CHROMIUM", "/usr/bin/chromium")
    service = Service(executable_path=os.environ.get("SLUICE_CHROMEDRIVER", "/usr/bin/chromedriver"))
    d = webdriver.Chrome(options=options, service=service)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


class Page:
    """The browser on the dashboard: open, find, wait, screenshot."""

    def __init__(self, driver, stack, name):
        self.d, self.stack, self.name, self.shots = driver, stack, name, 0
        os.makedirs(SHOTS, exist_ok=True)

    def open(self, path):
        self.d.get(path if path.startswith("http") else self.stack.url + path)

    def login(self, key=None):
        self.d.delete_all_cookies()
        self.open("/ui/login")
        self.d.find_element(By.CSS_SELECTOR, "[data-testid=key]").send_keys(key or self.stack.admin_key)
        self.d.find_element(By.CSS_SELECTOR, "[data-testid=login]").click()
        wait_for(lambda: "/ui/login" not in self.d.current_url, 30, "the login to finish")

    def find(self, testid):
        return self.d.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]")

    def all(self, testid):
        return self.d.find_elements(By.CSS_SELECTOR, f"[data-testid={testid}]")

    def text(self, testid):
        return self.find(testid).text

    def click(self, testid, timeout=60):
        """Clicks a link or submit button and waits for the page it leads to: Selenium's click
        returns before a form's answer has loaded, and reading (or opening another page) at
        once reads the old page or aborts the submission (seen on clean-clone runs).

        The old page is marked with a window property; each navigation gets a new window, so
        the mark's absence in a complete document means the new page has loaded. Chrome may
        answer any command with an error while the documents change (a clean-clone run saw
        "Node with given id does not belong to the document" from staleness_of), so errors
        during the wait count as "not yet"."""
        self.d.execute_script("window.__sluiceBeforeClick = true")
        self.find(testid).click()
        WebDriverWait(self.d, timeout, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(
                "return !window.__sluiceBeforeClick && document.readyState === 'complete'"),
            f"the page after clicking {testid}")

    def until(self, check, what, timeout=120, path=None):
        """Reloads `path` (or the current page) until `check()` holds, at most `timeout` s."""
        target = path or self.d.current_url

        def probe():
            self.open(target)
            return check()
        return wait_for(probe, timeout, what, interval=0.5)

    def shot(self, label, show=None):
        """Saves a screenshot; `show` (a data-testid) is scrolled into view first."""
        if show:
            self.d.execute_script("arguments[0].scrollIntoView({block: 'start'})", self.find(show))
        self.shots += 1
        path = os.path.join(SHOTS, f"{self.name}-{self.shots:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.png")
        self.d.save_screenshot(path)
        return path


@pytest.fixture
def page(driver, stack, request):
    driver.delete_all_cookies()
    return Page(driver, stack, request.node.name.replace("test_", ""))
