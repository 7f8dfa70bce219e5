"""``password/change/``, ``password/reset/`` and ``password/reset/confirm/``."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, PasswordHistory, User
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import bearer, reset_token

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "copper lanterns glow in winter harbours"


def change(client: APIClient, current: str, new: str):
    return client.post(
        "/api/v1/auth/password/change/",
        {"current_password": current, "new_password": new},
        format="json",
    )


def test_change_needs_the_current_password(user: User, user_client: APIClient) -> None:
    response = change(user_client, "not my password", NEW_PASSWORD)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"] == {
        "current_password": ["The current password is incorrect."]
    }
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("new_password", "code"),
    [
        ("short pass", "password_too_short"),
        ("x" * 129, "password_too_long"),
        ("aaaaaaaaaaaaaaaaaaaa", "password_too_weak"),
        (DEFAULT_PASSWORD, "password_reused"),
    ],
)
def test_change_applies_the_password_policy(
    user: User, user_client: APIClient, new_password: str, code: str
) -> None:
    response = change(user_client, DEFAULT_PASSWORD, new_password)

    assert response.status_code == 400
    assert response.json()["errors"]["new_password"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_change_sets_the_password_records_history_and_notifies(
    user: User, user_client: APIClient
) -> None:
    response = change(user_client, DEFAULT_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert PasswordHistory.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(kind="password.changed", target=user).exists()
    [message] = mail.outbox
    assert message.to == [user.email]


def test_change_needs_authentication(db: None) -> None:
    response = change(APIClient(), DEFAULT_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 401


def test_reset_answers_alike_for_known_and_unknown_addresses(user: User) -> None:
    client = APIClient()

    known = client.post(
        "/api/v1/auth/password/reset/", {"email": user.email.upper()}, format="json"
    )
    unknown = client.post(
        "/api/v1/auth/password/reset/", {"email": "nobody@example.com"}, format="json"
    )

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [message] = mail.outbox
    assert message.to == [user.email]


def test_reset_link_sets_a_new_password_once(user: User) -> None:
    client = APIClient()
    client.post("/api/v1/auth/password/reset/", {"email": user.email}, format="json")
    token = reset_token(mail.outbox[0])

    first = client.post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": NEW_PASSWORD},
        format="json",
    )
    second = client.post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": "another fine passphrase for testing"},
        format="json",
    )

    assert first.status_code == 204
    assert second.status_code == 400
    assert second.json()["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(kind="password.reset", target=user).exists()
    assert len(mail.outbox) == 2  # the link, then "your password was reset"


def test_an_expired_reset_link_is_refused(user: User, time_machine) -> None:
    APIClient().post(
        "/api/v1/auth/password/reset/", {"email": user.email}, format="json"
    )
    token = reset_token(mail.outbox[0])

    time_machine.move_to(timezone.now(), tick=False)

    time_machine.shift(3601)
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("token", ["garbage", "zzzz-abc-def", "0" * 32 + "-x-y"])
def test_malformed_reset_tokens_are_invalid_token(db: None, token: str) -> None:
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


def test_a_missing_reset_token_is_a_field_error(db: None) -> None:
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": "", "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "token" in response.json()["errors"]


def test_a_weak_new_password_keeps_the_reset_link_usable(user: User) -> None:
    APIClient().post(
        "/api/v1/auth/password/reset/", {"email": user.email}, format="json"
    )
    token = reset_token(mail.outbox[0])

    weak = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": "short"},
        format="json",
    )
    strong = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert weak.status_code == 400
    assert "new_password" in weak.json()["errors"]
    assert strong.status_code == 204


def test_the_reset_email_is_rate_limited_per_address(user: User) -> None:
    client = APIClient()
    statuses = [
        client.post(
            "/api/v1/auth/password/reset/", {"email": user.email}, format="json"
        ).status_code
        for _ in range(6)
    ]

    assert statuses == [202] * 5 + [429]
    assert len(mail.outbox) == 5


def test_me_with_a_bearer_works_after_change(user: User, tokens: dict) -> None:
    change(bearer(tokens["access"]), DEFAULT_PASSWORD, NEW_PASSWORD)

    assert bearer(tokens["access"]).get("/api/v1/users/me/").status_code == 200
