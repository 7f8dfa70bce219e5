"""The admin asks for a second factor and is rate limited like auth/login/."""

from __future__ import annotations

import time

import pytest
from django.test import Client, override_settings
from django_otp.oath import TOTP

from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, Ban, TOTPAuthenticator, User

pytestmark = pytest.mark.django_db

PASSWORD = "staff passphrase for the admin"
SECRET = b"12345678901234567890"


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


@pytest.fixture
def staff_device(staff: User) -> TOTPAuthenticator:
    return TOTPAuthenticator.objects.create(
        user=staff, name="app", confirmed=True, encrypted_key=encrypt_secret(SECRET)
    )


def current_code() -> str:
    totp = TOTP(SECRET)
    totp.time = time.time()
    return f"{totp.token():06d}"


def admin_login(client: Client, **fields: str):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "boss", "password": PASSWORD, **fields},
    )


def test_the_password_alone_does_not_open_the_admin(
    staff_device: TOTPAuthenticator,
) -> None:
    client = Client()

    response = admin_login(client)

    assert response.status_code == 200  # the form again, asking for the code
    assert client.get("/admin/").status_code == 302
    # django-otp's first step (right password, code still to come) is not a failure
    assert not AuditEvent.objects.filter(kind="login.failed").exists()


def test_password_and_a_code_open_the_admin(staff_device: TOTPAuthenticator) -> None:
    client = Client()

    response = admin_login(
        client, otp_device=staff_device.persistent_id, otp_token=current_code()
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_staff_member_without_a_factor_cannot_use_the_admin(staff: User) -> None:
    client = Client()
    admin_login(client)
    client.force_login(staff)  # even with a session

    assert client.get("/admin/").status_code == 302


@override_settings(MFA_REQUIRED_FOR_STAFF=False)
def test_with_the_requirement_off_staff_without_a_factor_may_enter(staff: User) -> None:
    client = Client()

    assert admin_login(client).status_code == 302
    assert client.get("/admin/").status_code == 200


@override_settings(MFA_REQUIRED_FOR_STAFF=False)
def test_with_the_requirement_off_a_staff_member_with_a_factor_still_needs_it(
    staff_device: TOTPAuthenticator,
) -> None:
    client = Client()

    assert admin_login(client).status_code == 200
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_failed_admin_logins_lock_out_like_the_api(
    staff_device: TOTPAuthenticator,
) -> None:
    client = Client()
    for _ in range(10):
        assert (
            client.post(
                "/admin/login/", {"username": "boss", "password": "wrong"}
            ).status_code
            == 200
        )

    response = admin_login(
        client, otp_device=staff_device.persistent_id, otp_token=current_code()
    )

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "rate_limited"
    # counted, audited and told as auth/login/ does
    from django.core import mail

    assert (
        AuditEvent.objects.filter(kind="login.failed", target=staff_device.user).count()
        == 10
    )
    assert (
        AuditEvent.objects.filter(kind="login.locked", target=staff_device.user).count()
        == 1
    )
    assert [message.to for message in mail.outbox] == [["boss@example.com"]]


def test_the_admin_login_page_asks_for_a_code(db: None) -> None:
    page = Client().get("/admin/login/")

    assert page.status_code == 200
    assert 'name="otp_token"' in page.content.decode()


def failures() -> list[tuple[str, dict]]:
    return list(
        AuditEvent.objects.filter(kind__in=["login.failed", "login.mfa_failed"])
        .order_by("created_at")
        .values_list("kind", "payload")
    )


@pytest.mark.django_db(transaction=True)  # committed for real: nothing rolls it back
def test_a_wrong_code_at_the_admin_is_audited(
    staff_device: TOTPAuthenticator,
) -> None:
    """Before issue 12 a wrong code at the admin's login left no trace."""
    client = Client()

    response = admin_login(
        client, otp_device=staff_device.persistent_id, otp_token="000000"
    )

    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
    assert failures() == [("login.mfa_failed", {"via": "admin"})]
    event = AuditEvent.objects.get(kind="login.mfa_failed")
    assert event.target == staff_device.user
    assert event.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),  # the first step: the password, no code yet
        ({"otp_token": "000000"}, [("login.mfa_failed", {"via": "admin"})]),
        ({"password": "wrong", "otp_token": "000000"}, [("login.failed", {})]),
    ],
)
def test_each_failed_admin_login_leaves_one_audit_row(
    staff_device: TOTPAuthenticator, fields: dict, expected: list
) -> None:
    admin_login(Client(), otp_device=staff_device.persistent_id, **fields)

    assert failures() == expected


def test_a_right_code_leaves_no_failure(staff_device: TOTPAuthenticator) -> None:
    admin_login(
        Client(), otp_device=staff_device.persistent_id, otp_token=current_code()
    )

    assert failures() == []


def test_a_banned_staff_members_code_is_no_wrong_code(
    staff_device: TOTPAuthenticator,
) -> None:
    Ban.objects.create(user=staff_device.user, reason="test")

    response = admin_login(
        Client(), otp_device=staff_device.persistent_id, otp_token=current_code()
    )

    assert "This account is banned." in response.content.decode()
    assert failures() == []
