"""The dashboard in a real browser (Debian's Chromium): the charts draw, under the admin's
Content-Security-Policy, in the colours of its light and dark themes."""

from __future__ import annotations

import os
from datetime import timedelta

from django.utils import timezone

from accounts.constants import AuditKind
from accounts.models import AuditEvent
from tests.browser import BROWSER_TEST, policy_violations
from tests.helpers import admin_client_for, otp_verified_staff_client

pytestmark = BROWSER_TEST

FILL_OF_FIRST_BAR = """
const bar = document.querySelector('.insights-bar--alert');
return [getComputedStyle(bar).fill, bar.getBoundingClientRect().height];
"""


def test_the_charts_draw_in_both_themes_under_the_policy(browser, live_server) -> None:
    from selenium.webdriver.common.by import By

    _, staff = otp_verified_staff_client()
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=AuditKind.LOGIN_FAILED, created_at=now - timedelta(days=day))
        for day in range(30)
        for _ in range(day % 7)
    )
    cookie = admin_client_for(staff).cookies["sessionid"].value
    browser.get(f"{live_server.url}/admin/login/")
    browser.add_cookie({"name": "sessionid", "value": cookie, "path": "/"})

    fills = {}
    for theme in ("light", "dark"):
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": theme}]},
        )
        browser.get(f"{live_server.url}/admin/")
        charts = browser.find_elements(By.CSS_SELECTOR, "svg.insights-chart")
        assert len(charts) == 9
        assert all(chart.size["width"] > 150 for chart in charts)
        fills[theme], height = browser.execute_script(FILL_OF_FIRST_BAR)
        assert height > 0
        if os.environ.get("INSIGHTS_SCREENSHOTS"):
            browser.set_window_size(1400, 1300)
            browser.save_screenshot(
                f"{os.environ['INSIGHTS_SCREENSHOTS']}/dashboard-{theme}.png"
            )

    # The admin's --error-fg of each theme, not SVG's default black.
    assert "rgb(0, 0, 0)" not in fills.values()
    assert fills["light"] != fills["dark"]
    assert policy_violations(browser) == []
