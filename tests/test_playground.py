"""The playground in a real browser: a photo sent from the page, a correction pressed, both replies seen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from devkit.harness import free_port
from devkit.local import ROOT
from devkit.photos import digit, jpeg, on_paper

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None, reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
)


@pytest.fixture
def playground(tmp_path) -> Iterator[str]:
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "devkit.playground", "--port", str(port)], cwd=tmp_path, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "chat", timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "the playground stopped"
                time.sleep(0.5)
        else:
            raise AssertionError("the playground did not come up in 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_photo_sent_from_the_page_is_answered_and_a_correction_pressed_is_thanked(playground, tmp_path, mnist_test):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    photo = tmp_path / "seven.jpg"
    photo.write_bytes(jpeg(on_paper([digit(mnist_test, 7)])))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,800"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        browser.get(playground)
        browser.find_element(By.ID, "photo").send_keys(str(photo))
        browser.find_element(By.ID, "send-photo").click()
        wait = WebDriverWait(browser, 60, poll_frequency=0.2)
        answer = wait.until(lambda b: next((m for m in b.find_elements(By.CSS_SELECTOR, ".msg.bot") if "I read:" in m.text), None))
        assert answer is not None and "7" in answer.find_element(By.CLASS_NAME, "text").text
        assert browser.find_elements(By.CSS_SELECTOR, ".msg.you img"), "the photo sent, shown in the chat"
        answer.find_element(By.XPATH, ".//button[normalize-space()='3']").click()
        wait.until(lambda b: "Saved the right answer: 3" in b.find_element(By.ID, "chat").text)
        browser.save_screenshot(str(tmp_path / "playground.png"))
        assert (tmp_path / "playground.png").stat().st_size > 0
    finally:
        browser.quit()
