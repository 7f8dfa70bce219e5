"""``GET /api/v1/config/``: the real policy, for frontends."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from config.frontend import password_policy


# The endpoint gate (flags.gates) reads the route's flag: the rules come from the
# database on a worker's first request.
@pytest.mark.django_db
def test_config_describes_the_password_policy_and_login() -> None:
    response = APIClient().get("/api/v1/config/")

    assert response.status_code == 200
    body = response.json()
    assert body["registration_open"] is True
    assert body["email_verification"] == "optional"
    policy = body["password_policy"]
    assert (policy["min_length"], policy["max_length"], policy["history_size"]) == (
        15,
        128,
        5,
    )
    assert policy["rules"]
    assert body["login"]["lockout_attempts"] == 10
    assert body["login"]["access_token_lifetime"] == 300
    assert body["languages"] == [{"code": "en", "name": "English"}]


@override_settings(
    REGISTRATION_OPEN=False,
    ACCOUNT_EMAIL_VERIFICATION="mandatory",
    PASSWORD_MIN_LENGTH=20,
)
@pytest.mark.django_db
def test_config_follows_the_settings() -> None:
    body = APIClient().get("/api/v1/config/").json()

    assert body["registration_open"] is False
    assert body["email_verification"] == "mandatory"
    assert body["password_policy"]["min_length"] == 20


def test_password_policy_publishes_the_settings_and_every_rule(settings) -> None:
    settings.PASSWORD_HISTORY_SIZE = 4

    policy = password_policy()

    assert policy == {
        "min_length": 15,
        "max_length": 128,
        "min_strength": 3,
        "history_size": 4,
        "rules": policy["rules"],
    }
    assert len(policy["rules"]) == len(settings.AUTH_PASSWORD_VALIDATORS)
    assert all(isinstance(rule, str) and rule for rule in policy["rules"])
    assert "Your password must contain at most 128 characters." in policy["rules"]


@override_settings(
    FILE_MAX_BYTES=2_000_000,
    FILE_QUOTA_BYTES=50_000_000,
    FILE_ALLOWED_TYPES=["application/pdf", "text/plain"],
    AVATAR_MAX_BYTES=1_000_000,
)
@pytest.mark.django_db
def test_config_tells_the_upload_limits() -> None:
    uploads = APIClient().get("/api/v1/config/").json()["uploads"]

    assert uploads == {
        "max_file_bytes": 2_000_000,
        "quota_bytes": 50_000_000,
        "allowed_types": ["application/pdf", "text/plain"],
        "avatar_max_bytes": 1_000_000,
        "avatar_allowed_types": [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "image/bmp",
        ],
        "avatar_size": 512,
    }
