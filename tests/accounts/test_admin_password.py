"""The admin's password page is a password change like any other: it goes through
``password_set_by_staff`` (policy, history, sessions ended, audit, email), never a raw save."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.constants import AuditKind
from accounts.models import AuditEvent, PasswordHistory, User
from tests.helpers import otp_verified_staff_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase for heidi"


def post_password(client, user: User, **fields: str):
    return client.post(f"/admin/accounts/user/{user.pk}/password/", fields)


def test_staff_set_a_password_and_the_users_tokens_die(
    user: User, user_client: APIClient, django_capture_on_commit_callbacks
) -> None:
    admin, staff = otp_verified_staff_client()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post_password(
            admin,
            user,
            usable_password="true",
            password1=NEW_PASSWORD,
            password2=NEW_PASSWORD,
        )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user_client.get("/api/v1/users/me/").status_code == 401
    event = AuditEvent.objects.get(kind=AuditKind.PASSWORD_CHANGED, target=user)
    assert event.actor_id == staff.pk
    assert event.payload == {"by_staff": True, "usable": True}
    assert PasswordHistory.objects.filter(user=user).count() == 1
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert "password" in mail.outbox[0].subject.lower()


def test_the_password_policy_applies_on_the_admins_page(user: User) -> None:
    admin, _ = otp_verified_staff_client()
    before = user.password

    response = post_password(
        admin, user, usable_password="true", password1="short", password2="short"
    )

    assert response.status_code == 200  # the page again, with the policy's errors
    user.refresh_from_db()
    assert user.password == before
    assert not AuditEvent.objects.filter(kind=AuditKind.PASSWORD_CHANGED).exists()


def test_staff_turn_password_sign_in_off(user: User, user_client: APIClient) -> None:
    admin, _ = otp_verified_staff_client()

    response = post_password(
        admin, user, usable_password="false", **{"unset-password": "1"}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert user_client.get("/api/v1/users/me/").status_code == 401
    event = AuditEvent.objects.get(kind=AuditKind.PASSWORD_CHANGED, target=user)
    assert event.payload["usable"] is False


def test_a_staff_member_changing_their_own_password_keeps_their_admin_session() -> None:
    admin, staff = otp_verified_staff_client()

    response = post_password(
        admin,
        staff,
        usable_password="true",
        password1=NEW_PASSWORD,
        password2=NEW_PASSWORD,
    )

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)
    assert admin.get("/admin/accounts/user/").status_code == 200
