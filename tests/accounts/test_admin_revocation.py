"""A ban reaches the admin: a banned or inactive account cannot sign in to it nor use a
session it holds, and every way of ending a user's sessions ends their admin session too."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, Ban, TOTPAuthenticator, User
from accounts.services.moderation import user_ban, user_update_by_staff
from accounts.services.password import password_reset_token
from config.client import SYSTEM
from tests.helpers import admin_client_for, amr_of, otp_verified_staff_client

pytestmark = pytest.mark.django_db

PASSWORD = "staff passphrase for the admin"
NEW_PASSWORD = "silver kettles whistle beneath autumn rain"
SECRET = b"12345678901234567890"


@pytest.fixture
def staff(db: None) -> User:
    """An admin (the role) with an authenticator app (the code ``current_code`` makes)."""
    staff = User.objects.create_user(
        "boss", "boss@example.com", PASSWORD, is_staff=True
    )
    staff.groups.add(Group.objects.get_or_create(name="admin")[0])
    TOTPAuthenticator.objects.create(
        user=staff, name="app", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )
    return staff


@pytest.fixture
def admin(staff: User) -> Client:
    """``staff`` signed in to the admin, second factor verified."""
    client = admin_client_for(staff)
    assert is_signed_in(client)
    return client


def current_code() -> str:
    totp = TOTP(SECRET)
    totp.time = time.time()
    return f"{totp.token():06d}"


def admin_login(client: Client, staff: User):
    return client.post(
        "/admin/login/?next=/admin/",
        {
            "username": staff.username,
            "password": PASSWORD,
            "code": current_code(),
        },
    )


def is_signed_in(client: Client) -> bool:
    """Whether the client's admin session still opens the admin (else: to the login)."""
    response = client.get("/admin/accounts/user/")
    assert response.status_code in {200, 302}
    return response.status_code == 200


def ban(user: User, **fields: object) -> None:
    user_ban(
        user_id=user.pk,
        actor=SYSTEM_ACTOR,
        reason="abuse",
        client=SYSTEM,
        **{"until": None, **fields},
    )


# --- Signing in ----------------------------------------------------------------------------


def test_a_banned_staff_member_cannot_sign_in_to_the_admin(staff: User) -> None:
    ban(staff)
    client = Client()

    response = admin_login(client, staff)

    assert response.status_code == 200  # the form again, with the reason
    assert "banned" in response.content.decode()
    assert not is_signed_in(client)


def test_a_ban_that_has_ended_does_not_keep_a_staff_member_out(staff: User) -> None:
    Ban.objects.create(
        user=staff,
        reason="old",
        created_at=timezone.now() - timedelta(days=2),
        until=timezone.now() - timedelta(days=1),
    )
    client = Client()

    assert admin_login(client, staff).status_code == 302
    assert is_signed_in(client)


def test_an_inactive_staff_member_cannot_sign_in_to_the_admin(staff: User) -> None:
    staff.is_active = False
    staff.save()
    client = Client()

    assert admin_login(client, staff).status_code == 200
    assert not is_signed_in(client)


# --- A session already open ----------------------------------------------------------------


def test_a_staff_member_banned_while_signed_in_is_refused_on_the_next_request(
    staff: User, admin: Client
) -> None:
    ban(staff, until=timezone.now() + timedelta(days=1))

    assert not is_signed_in(admin)


def test_a_ban_refuses_the_admin_even_if_no_session_was_revoked(
    staff: User, admin: Client
) -> None:
    # A ban row alone (as a data migration or a shell might write it) is enough.
    Ban.objects.create(user=staff, reason="abuse")

    assert not is_signed_in(admin)


def test_a_staff_member_deactivated_while_signed_in_is_refused(
    staff: User, admin: Client
) -> None:
    boss, _ = otp_verified_staff_client("other_root")

    user_update_by_staff(
        actor=SYSTEM_ACTOR,
        user_id=staff.pk,
        changes={"is_active": False},
        client=SYSTEM,
    )

    assert not is_signed_in(admin)
    assert is_signed_in(boss)


# --- Every way of ending a user's sessions -------------------------------------------------


def test_logout_all_ends_the_admin_session(staff: User, admin: Client) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_access(staff)}")

    assert api.post("/api/v1/auth/logout/all/").status_code == 204

    assert not is_signed_in(admin)


def api_access(staff: User) -> str:
    from accounts.services.sessions import session_create

    return session_create(user=staff, client=SYSTEM, amr=amr_of(staff))[1].access


def test_the_admins_sign_out_everywhere_ends_their_admin_session(
    staff: User, admin: Client
) -> None:
    other_admin, other = otp_verified_staff_client("other_root")

    response = other_admin.post(
        "/admin/accounts/user/",
        {"action": "revoke_all_sessions", "_selected_action": [str(staff.pk)]},
    )

    assert response.status_code == 302
    assert AuditEvent.objects.filter(
        kind="session.revoked_all", target=staff, actor=other
    ).exists()
    assert not is_signed_in(admin)
    assert is_signed_in(other_admin)  # the actor's own session is not touched


def test_a_password_reset_ends_the_admin_session(staff: User, admin: Client) -> None:
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": password_reset_token(staff), "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204, response.json()
    assert not is_signed_in(admin)


def test_a_password_change_through_the_api_ends_the_admin_session(
    staff: User, admin: Client
) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_access(staff)}")

    response = api.post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204, response.json()
    assert not is_signed_in(admin)


def test_another_users_revocation_leaves_the_admin_session_alone(
    staff: User, admin: Client, user: User
) -> None:
    ban(user)

    assert is_signed_in(admin)


def test_signing_in_again_after_a_revocation_works(staff: User, admin: Client) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_access(staff)}")
    api.post("/api/v1/auth/logout/all/")
    assert not is_signed_in(admin)

    client = Client()
    assert admin_login(client, staff).status_code == 302
    assert is_signed_in(client)
