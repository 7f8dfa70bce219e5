"""A staff member bans a user from the admin in a real browser (Debian's Chromium); the API
docs render under their Content-Security-Policy."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from accounts.crypto import encrypt_secret
from accounts.models import Ban, TOTPAuthenticator, User
from accounts.services.sessions import session_create
from config.client import SYSTEM
from tests.browser import BROWSER_TEST, policy_violations
from tests.factories import UserFactory
from tests.helpers import amr_of

pytestmark = BROWSER_TEST
SECRET = b"browser-test-secret!"
PASSWORD = "staff passphrase for the browser"


def code_now() -> str:
    totp = TOTP(SECRET)
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_staff_ban_a_user_for_a_day_from_the_admin(browser, live_server) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    staff = User.objects.create_superuser("chief", "chief@example.com", PASSWORD)
    TOTPAuthenticator.objects.create(
        user=staff, name="phone", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )
    target = UserFactory(username="troll")
    access = session_create(user=target, client=SYSTEM, amr=amr_of(target))[1].access
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get("/api/v1/users/me/").status_code == 200

    # Sign in to the admin: password and a code from the authenticator app, on one page.
    browser.get(f"{live_server.url}/admin/login/?next=/admin/accounts/user/")
    browser.find_element(By.NAME, "username").send_keys("chief")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "code").send_keys(code_now())
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda page: (
            "/admin/login/" not in page.current_url
            or page.find_elements(By.CSS_SELECTOR, ".errornote, .errorlist")
        )
    )
    errors = [
        e.text for e in browser.find_elements(By.CSS_SELECTOR, ".errornote, .errorlist")
    ]
    assert "/admin/login/" not in browser.current_url, (
        errors,
        browser.page_source[-3000:],
    )

    # Tick the user, choose "Ban for 1 day", give a reason.
    browser.get(f"{live_server.url}/admin/accounts/user/?q=troll")
    browser.find_element(
        By.CSS_SELECTOR, f"input[name=_selected_action][value='{target.pk}']"
    ).click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("ban_for_a_day")
    browser.find_element(By.NAME, "index").click()
    browser.find_element(By.ID, "id_reason").send_keys("Harassment in the forums")
    browser.find_element(By.ID, "confirm-ban").click()
    WebDriverWait(browser, 10).until(
        lambda page: "Banned for 1 day: troll" in page.page_source
    )

    ban = Ban.objects.get(user=target)
    assert ban.reason == "Harassment in the forums"
    assert ban.until is not None
    # The banned user's token is refused through the API at once.
    response = api.get("/api/v1/users/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    # The admin's Content-Security-Policy refused nothing the admin needs.
    assert policy_violations(browser) == []


def test_the_first_staff_member_sets_up_an_app_on_the_way_in(
    browser, live_server
) -> None:
    """Issue 13: a superadmin with no second factor is taken from the login page to set
    up an authenticator app (an inline QR code, under the admin's policy), sees the
    recovery codes once, and continues into the admin."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    User.objects.create_superuser("first", "first@example.com", PASSWORD)

    browser.get(f"{live_server.url}/admin/")
    browser.find_element(By.NAME, "username").send_keys("first")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda page: "/admin/mfa/enrol/" in page.current_url
    )
    assert browser.find_element(By.CSS_SELECTOR, "#mfa-qr-code svg").is_displayed()
    secret = browser.find_element(By.ID, "mfa-secret").text
    totp = TOTP(b32decode(secret + "=" * (-len(secret) % 8)))
    totp.time = time.time()
    browser.find_element(By.NAME, "code").send_keys(f"{totp.token():06d}")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    codes = browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")
    assert len(codes) == 10
    browser.find_element(By.ID, "continue-to-admin").click()
    WebDriverWait(browser, 10).until(
        lambda page: page.current_url.rstrip("/").endswith("/admin")
    )
    assert browser.find_elements(By.ID, "user-tools")  # signed in, with the menu
    assert policy_violations(browser) == []


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/api/docs/", "#swagger-ui .opblock"),  # Swagger UI lists the operations
        ("/api/redoc/", "[data-section-id]"),  # Redoc, its sections
    ],
)
def test_the_api_docs_render_under_their_content_security_policy(
    browser, live_server, path: str, rendered: str
) -> None:
    """Issue 12 gave the docs a strict policy (no inline script, nothing from another
    origin): they must still work, and the browser must have refused nothing."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}{path}")

    WebDriverWait(browser, 20).until(
        lambda page: page.find_elements(By.CSS_SELECTOR, rendered)
    )
    assert policy_violations(browser) == []
