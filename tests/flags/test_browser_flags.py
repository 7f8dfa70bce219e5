"""Issue 15's browser test: a staff member switches a feature flag on in the admin (Debian's
Chromium), and a user's next ``GET /api/v1/flags/``, served by another server process,
shows it within a second.

Two ``bin/start`` servers (granian, one worker each) share a scratch database and Redis:
the admin is used on one, the API on the other, so the change can only reach the API's
process through the cache invalidation (``flags.evaluation.rules_changed``), not through
anything the admin's process remembers.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django_otp.oath import TOTP

from tests.browser import BROWSER_TEST, policy_violations
from tests.processes import (
    PROJECT_ROOT,
    free_port,
    process_environment,
    run_python,
    scratch_database_url,
)
from tests.test_server import wait_until_ready

pytestmark = BROWSER_TEST

SECRET = b"flags-browser-secret"
STAFF_PASSWORD = "staff passphrase for the flags test"
USER_PASSWORD = "reader passphrase for the flags test"
FLAG = "new-dashboard"
# Without REDIS_URL (the embedded stage), the Redis every machine that runs the suite has
# (.ci/run starts it before the first stage), in a db no other test uses.
LOCAL_REDIS = "redis://127.0.0.1:6379/11"
# What the issue allows between the click and every worker's answer.
WITHIN_SECONDS = 1.0
# When the browser received the toggle's answer (the redirect back to the list), in
# epoch milliseconds; the start of the list's request where the browser hides it.
ANSWERED_AT = """
const [page] = performance.getEntriesByType("navigation");
return performance.timeOrigin + (page.redirectEnd || page.fetchStart);
"""

SETUP = f"""
import json
from accounts.access import SYSTEM_ACTOR
from accounts.crypto import encrypt_secret
from accounts.models import TOTPAuthenticator, User
from config.client import SYSTEM
from flags.models import FlagChange
from flags.services import flag_create

staff = User.objects.create_superuser("chief", "chief@example.com", {STAFF_PASSWORD!r})
TOTPAuthenticator.objects.create(
    user=staff, name="phone", confirmed=True, encrypted_key=encrypt_secret({SECRET!r})
)
User.objects.create_user("reader", "reader@example.com", {USER_PASSWORD!r})
flag = flag_create(
    name={FLAG!r}, actor=SYSTEM_ACTOR, client=SYSTEM, source=FlagChange.Source.COMMAND
)
print(json.dumps({{"flag": flag.pk}}))
"""


def code_now() -> str:
    totp = TOTP(SECRET)
    totp.time = time.time()
    return f"{totp.token():06d}"


def redis_url() -> str:
    """The suite's Redis, or the local one; the test is skipped where there is none."""
    import redis

    url = settings.REDIS_URL or LOCAL_REDIS
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {url} (.ci/run starts it)")
    return url


def forget_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


@contextmanager
def server(environment: dict[str, str], log_path: Path) -> Iterator[str]:
    """``bin/start`` on a port of its own, one worker; its base URL once ready."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bin/start"],
            cwd=PROJECT_ROOT,
            env={**environment, "PORT": str(port)},
            stdout=log,
            stderr=log,
        )
        try:
            wait_until_ready(base_url, process)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=30)


def api(base_url: str, path: str, body: dict | None = None, **headers: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        f"{base_url}/api/v1/{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def test_a_flag_switched_in_the_admin_reaches_another_workers_api_within_a_second(
    browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    cache = redis_url()
    prefix = f"gh_flags_browser_{uuid.uuid4().hex[:12]}"
    with scratch_database_url(tmp_path) as database_url:
        environment = process_environment(
            DATABASE_URL=database_url,
            REDIS_URL=cache,
            CACHE_KEY_PREFIX=prefix,
            DATA_DIR=str(tmp_path),
            STATIC_ROOT=str(tmp_path / "static"),
            HOST="127.0.0.1",
            WEB_WORKERS="1",
            RUN_MIGRATIONS="false",
            # Plain-HTTP cookies for the browser; staff still need their second factor.
            DEBUG="true",
            MFA_REQUIRED_FOR_STAFF="true",
            LOG_LEVEL="warning",
        )
        # The admin's pages load their styles and scripts as in production.
        collected = run_python(
            "manage.py", "collectstatic", "--noinput", "-v0", environment=environment
        )
        assert collected.returncode == 0, collected.stderr
        migrated = run_python("manage.py", "migrate", "-v0", environment=environment)
        assert migrated.returncode == 0, migrated.stderr
        made = run_python("manage.py", "shell", "-c", SETUP, environment=environment)
        assert made.returncode == 0, made.stderr
        flag_id = json.loads(made.stdout.strip().splitlines()[-1])["flag"]
        try:
            with (
                server(environment, tmp_path / "admin.log") as admin_url,
                server(environment, tmp_path / "api.log") as api_url,
            ):
                # The user signs in through the API server; the flag is off for them
                # (and that server's process now holds the rules it read).
                login = api(
                    api_url,
                    "auth/login/",
                    {"login": "reader", "password": USER_PASSWORD},
                )
                bearer = {"Authorization": f"Bearer {login['access']}"}
                assert api(api_url, "flags/", **bearer)["flags"][FLAG] is False

                # Staff sign in to the admin on the other server, with their code.
                browser.get(f"{admin_url}/admin/login/?next=/admin/flags/flag/")
                browser.find_element(By.NAME, "username").send_keys("chief")
                browser.find_element(By.NAME, "password").send_keys(STAFF_PASSWORD)
                browser.find_element(By.NAME, "code").send_keys(code_now())
                browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
                WebDriverWait(browser, 10).until(
                    lambda page: "/admin/login/" not in page.current_url
                )
                browser.get(f"{admin_url}/admin/flags/flag/?kind=feature")
                button = browser.find_element(By.ID, f"toggle-{flag_id}-on")
                assert button.text == "On for everyone"

                # One click. The clock starts when the browser received the click's
                # answer (the 302 back to the list: Navigation Timing's redirectEnd,
                # on this machine's wall clock).
                button.click()
                WebDriverWait(browser, 10, poll_frequency=0.02).until(
                    lambda page: page.find_elements(By.CSS_SELECTOR, ".messagelist")
                )
                answered_at = browser.execute_script(ANSWERED_AT) / 1000
                seen_at = None
                while time.time() - answered_at < WITHIN_SECONDS + 2:
                    if api(api_url, "flags/", **bearer)["flags"][FLAG] is True:
                        seen_at = time.time()
                        break
                    time.sleep(0.02)

                assert seen_at is not None, "the API never showed the change"
                assert seen_at - answered_at <= WITHIN_SECONDS, (
                    f"seen {seen_at - answered_at:.3f}s after the click's answer"
                )
                message = browser.find_element(By.CSS_SELECTOR, ".messagelist").text
                assert message == f"Flag {FLAG}: now on for everyone."
                # The list shows the new state: its button is the disabled one.
                assert not browser.find_element(
                    By.ID, f"toggle-{flag_id}-on"
                ).is_enabled()
                assert policy_violations(browser) == []
        finally:
            forget_keys(cache, prefix)
    # And the API's process was never the admin's.
    assert admin_url != api_url
    assert "Traceback" not in (tmp_path / "api.log").read_text()
