"""Issue 13, end to end in a real browser (Debian's Chromium): the first staff member,
made by ``manage.py bootstrap_superadmin`` as ops do, sets up an authenticator app on the
way into the admin, reads the dashboard, finds one user among hundreds by search, bans
them for a day and lifts the ban, and the API follows each step at once."""

from __future__ import annotations

import io
import time
from base64 import b32decode
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import TOTP

from accounts.constants import AuditKind
from accounts.models import AuditEvent, Ban, TOTPAuthenticator, User
from tests.browser import BROWSER_TEST, policy_violations
from tests.factories import UserFactory
from tests.helpers import bearer, log_in

pytestmark = BROWSER_TEST

PASSWORD = "the first admin's long passphrase"
MEMBERS = 300
# Members joined 0 to 44 days ago, in turn: the dashboard's 30 days hold those of 0 to 29.
JOINED_DAYS_AGO = 45
FAILED_SIGN_INS_DAYS_AGO = (0, 1, 1, 3, 8, 8, 8, 20, 40)


def seed_members() -> None:
    """Hundreds of accounts at the cost of one query (one password hash for all)."""
    now = timezone.now()
    password = make_password("a member's password")
    User.objects.bulk_create(
        User(
            username=f"member_{number:03d}",
            email=f"member_{number:03d}@example.com",
            display_name=f"Member {number}",
            password=password,
            date_joined=now - timedelta(days=number % JOINED_DAYS_AGO),
        )
        for number in range(MEMBERS)
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=AuditKind.LOGIN_FAILED, created_at=now - timedelta(days=days))
        for days in FAILED_SIGN_INS_DAYS_AGO
    )


def sign_ups_in_the_last_30_days() -> int:
    today = timezone.now().astimezone(UTC).date()
    since = today - timedelta(days=29)
    return sum(
        1
        for joined in User.objects.values_list("date_joined", flat=True)
        if joined.astimezone(UTC).date() >= since
    )


def code_for(secret: str) -> str:
    """The code an authenticator app shows now for the key the page printed."""
    totp = TOTP(b32decode(secret + "=" * (-len(secret) % 8)))
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_the_first_staff_member_enrols_reads_the_dashboard_and_bans_then_unbans(
    browser, live_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def wait_for(condition: Callable[[Any], Any]) -> Any:
        # An element of the page being left goes stale under a condition reading it.
        return WebDriverWait(
            browser, 10, ignored_exceptions=[StaleElementReferenceException]
        ).until(condition)

    def rows() -> list:
        return browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")

    def run_on_the_row(action: str) -> None:
        [row] = rows()
        row.find_element(By.NAME, "_selected_action").click()
        Select(browser.find_element(By.NAME, "action")).select_by_value(action)
        browser.find_element(By.NAME, "index").click()

    def paginator() -> str:
        return browser.find_element(By.CSS_SELECTOR, ".paginator").text

    def messages() -> str:
        return " ".join(
            item.text
            for item in browser.find_elements(By.CSS_SELECTOR, ".messagelist li")
        )

    # 1. The first superadmin, as ops make it: no terminal, the environment's variables.
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "chief")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "chief@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("bootstrap_superadmin", "--noinput", stdout=io.StringIO())
    chief = User.objects.get(username="chief")
    assert chief.is_superuser
    assert not TOTPAuthenticator.objects.filter(user=chief).exists()

    # 2. Many users, one of them the one to find, signed in through the API; figures.
    seed_members()
    target = UserFactory(username="zelda_target", display_name="Zelda")
    EmailAddress.objects.create(
        user=target, email=target.email, primary=True, verified=True
    )
    api = bearer(log_in(target)["access"])
    assert api.get("/api/v1/users/me/").status_code == 200
    call_command("refresh_stats", stdout=io.StringIO())
    everyone = User.objects.count()
    sign_ups = sign_ups_in_the_last_30_days()
    assert everyone > MEMBERS
    assert 0 < sign_ups < everyone

    # 3. Password only: the admin asks for an authenticator app before letting them in.
    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.NAME, "username").send_keys("chief")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_for(lambda page: "/admin/mfa/enrol/" in page.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "#mfa-qr-code svg").is_displayed()
    secret = browser.find_element(By.ID, "mfa-secret").text
    browser.find_element(By.NAME, "code").send_keys(code_for(secret))
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    codes = [
        item.text
        for item in wait_for(
            lambda page: page.find_elements(By.CSS_SELECTOR, "#recovery-codes li")
        )
    ]
    assert len(set(codes)) == 10
    assert TOTPAuthenticator.objects.get(user=chief).confirmed
    browser.find_element(By.ID, "continue-to-admin").click()
    wait_for(lambda page: page.current_url == f"{live_server.url}/admin/")

    # 4. The dashboard: a chart on each card, the figures of the database.
    cards = {
        card.find_element(By.TAG_NAME, "h3").text: card
        for card in browser.find_elements(By.CSS_SELECTOR, ".insights-card")
    }
    assert len(cards) == 9
    for card in cards.values():
        assert card.find_element(By.CSS_SELECTOR, "svg[role=img]").is_displayed()
    headline = ".insights-headline"
    assert cards["Sign-ups"].find_element(By.CSS_SELECTOR, headline).text == (
        f"{sign_ups:,}"
    )
    assert cards["Failed sign-ins"].find_element(By.CSS_SELECTOR, headline).text == (
        f"{sum(days < 30 for days in FAILED_SIGN_INS_DAYS_AGO)}"
    )
    # A card leads to the list it counts.
    cards["Sign-ups"].find_element(By.CSS_SELECTOR, "h3 a").click()
    wait_for(lambda page: "date_joined__gte=" in page.current_url)
    assert f"{sign_ups} users" in paginator()
    browser.back()
    wait_for(lambda page: page.find_elements(By.CSS_SELECTOR, ".insights-card"))

    # 5. The user list holds everyone; a search finds the one; ban them for a day.
    browser.find_element(By.CSS_SELECTOR, "a[href='/admin/accounts/user/']").click()
    wait_for(lambda page: page.current_url.endswith("/admin/accounts/user/"))
    assert f"{everyone} users" in paginator()
    assert len(rows()) == 100  # a page of them
    browser.find_element(By.ID, "searchbar").send_keys("zelda", Keys.ENTER)
    wait_for(lambda page: "q=zelda" in page.current_url)
    [row] = rows()
    assert row.find_element(By.CSS_SELECTOR, ".field-username").text == "zelda_target"
    run_on_the_row("ban_for_a_day")
    browser.find_element(By.ID, "id_reason").send_keys("Spam in every channel")
    browser.find_element(By.ID, "confirm-ban").click()
    wait_for(lambda page: "Banned for 1 day: zelda_target." in messages())
    [row] = rows()  # back on the search's results
    assert row.find_element(By.CSS_SELECTOR, ".field-banned").text.startswith("until ")
    ban = Ban.objects.get(user=target)
    assert (ban.reason, ban.created_by) == ("Spam in every channel", chief)
    refused = api.get("/api/v1/users/me/")
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_invalid"

    # 6. Lift the ban: the list says so, the ban is kept as lifted, they sign in again.
    run_on_the_row("unban")
    wait_for(lambda page: "Ban lifted: zelda_target." in messages())
    [row] = rows()
    assert row.find_element(By.CSS_SELECTOR, ".field-banned").text == "—"
    ban.refresh_from_db()
    assert ban.lifted_at is not None
    assert ban.lifted_by == chief
    assert bearer(log_in(target)["access"]).get("/api/v1/users/me/").status_code == 200

    # 7. The admin's Content-Security-Policy refused nothing on the way.
    assert policy_violations(browser) == []
