"""What the browser tests share: Debian's Chromium driven by selenium, their marks, and
reading the Content-Security-Policy refusals from the browser's console.

The ``browser`` fixture (``tests/conftest.py``) opens :func:`chromium`. Nothing here
imports selenium at import time: only a test that drives a browser loads it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

# A browser test's module marks: slow (it starts Chromium), answered by live_server
# (another thread, so its writes must commit), skipped where Chromium is missing.
BROWSER_TEST = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]

# Redoc's footer always asks its vendor's CDN for a logo, and hides it when that fails:
# the policy is meant to refuse it (the docs load nothing from another origin).
REFUSED_ON_PURPOSE = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium that keeps its console, where it reports what a
    Content-Security-Policy refused."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def policy_violations(browser: Any) -> list[str]:
    """What the Content-Security-Policy refused since the console was last read, but
    :data:`REFUSED_ON_PURPOSE`."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
        and not any(url in entry["message"] for url in REFUSED_ON_PURPOSE)
    ]
