"""Profile rules, email change and account deletion (users ``me/``, ``me/email/``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import AuditEvent, AuthSession, PasswordHistory, User
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import bearer, otp_verified_staff_client, verification_key

pytestmark = pytest.mark.django_db


# --- profile rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1 (415) 555-0132", "+14155550132"),
        ("", ""),
    ],
)
def test_phone_numbers_are_stored_in_e164(
    user: User, user_client: APIClient, typed: str, stored: str
) -> None:
    response = user_client.patch("/api/v1/users/me/", {"phone": typed}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["phone"] == stored
    user.refresh_from_db()
    assert user.phone == stored


@pytest.mark.parametrize("typed", ["12345", "0612345678", "+33 1", "call me"])
def test_invalid_phone_numbers_are_refused(user_client: APIClient, typed: str) -> None:
    response = user_client.patch("/api/v1/users/me/", {"phone": typed}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["errors"]


@override_settings(PHONE_DEFAULT_REGION="FR")
def test_a_default_region_reads_national_numbers(user_client: APIClient) -> None:
    response = user_client.patch(
        "/api/v1/users/me/", {"phone": "06 12 34 56 78"}, format="json"
    )

    assert response.json()["phone"] == "+33612345678"


def test_display_names_are_free_text_by_default(user_client: APIClient) -> None:
    response = user_client.patch(
        "/api/v1/users/me/",
        {"display_name": "  Ada, Countess of Lovelace "},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["display_name"] == "Ada, Countess of Lovelace"


@override_settings(DISPLAY_NAME_FREE=False)
@pytest.mark.parametrize(
    ("name", "status"), [("Ada Lovelace", 200), ("ADA lovelace", 200), ("Ada", 400)]
)
def test_strict_display_names_follow_the_username(
    db: None, login: Callable, name: str, status: int
) -> None:
    from tests.factories import UserFactory

    account = UserFactory(username="ada_lovelace")
    client = bearer(login(account)["access"])

    response = client.patch("/api/v1/users/me/", {"display_name": name}, format="json")

    assert response.status_code == status


def test_control_characters_are_refused_in_display_names(
    user_client: APIClient,
) -> None:
    response = user_client.patch(
        "/api/v1/users/me/", {"display_name": "evil\u202e"}, format="json"
    )

    assert response.status_code == 400


# --- email change ----------------------------------------------------------------------


def change_email(client: APIClient, new_email: str, password: str = DEFAULT_PASSWORD):
    return client.post(
        "/api/v1/users/me/email/",
        {"new_email": new_email, "password": password},
        format="json",
    )


def test_email_change_end_to_end(user: User, user_client: APIClient) -> None:
    old_email = user.email

    response = change_email(user_client, "New.Address@Example.com")

    assert response.status_code == 202
    user.refresh_from_db()
    assert user.email == old_email  # nothing changes until the link is followed
    [link] = mail.outbox
    assert link.to == ["new.address@example.com"]
    mail.outbox.clear()

    verified = APIClient().post(
        "/api/v1/auth/email/verify/", {"key": verification_key(link)}, format="json"
    )

    assert verified.status_code == 200
    assert verified.json()["user"]["email"] == "new.address@example.com"
    user.refresh_from_db()
    assert user.email == "new.address@example.com"
    assert list(
        EmailAddress.objects.filter(user=user).values_list(
            "email", "verified", "primary"
        )
    ) == [("new.address@example.com", True, True)]
    [notice] = mail.outbox  # the old address is told, with a way to report it
    assert notice.to == [old_email]
    assert "new.address@example.com" in notice.body
    assert "report it" in notice.body
    assert AuditEvent.objects.filter(kind="email.changed", target=user).exists()
    assert (
        user_client.get("/api/v1/users/me/").json()["email"]
        == "new.address@example.com"
    )
    # the old address is free for someone else, and the new one logs in
    assert (
        APIClient()
        .post(
            "/api/v1/auth/login/",
            {"login": "new.address@example.com", "password": DEFAULT_PASSWORD},
            format="json",
        )
        .status_code
        == 200
    )


def test_email_change_needs_the_password(user: User, user_client: APIClient) -> None:
    response = change_email(user_client, "new@example.com", password="wrong password")

    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["The password is incorrect."]}
    assert mail.outbox == []


def test_changing_to_the_same_address_is_a_field_error(
    user: User, user_client: APIClient
) -> None:
    response = change_email(user_client, user.email.upper())

    assert response.status_code == 400
    assert "new_email" in response.json()["errors"]


def test_an_address_of_another_account_answers_alike_and_changes_nothing(
    user: User, other_user: User, user_client: APIClient
) -> None:
    response = change_email(user_client, other_user.email)

    assert response.status_code == 202
    [message] = mail.outbox
    assert message.to == [other_user.email]  # its owner hears that someone tried
    assert "verify-email" not in message.body
    assert not EmailAddress.objects.filter(user=user, email=other_user.email).exists()


def test_email_change_needs_authentication(db: None) -> None:
    assert change_email(APIClient(), "new@example.com").status_code == 401


def claim_an_address_twice(user_client: APIClient) -> tuple[str, str]:
    """``user`` asks to move to an address that a new account then signs up with: two
    unverified claims on one address. Returns the two verification keys (user's, new's)."""
    assert change_email(user_client, "shared@example.com").status_code == 202
    signed_up = APIClient().post(
        "/api/v1/auth/register/",
        {
            "username": "newcomer",
            "email": "shared@example.com",
            "password": "violet lanterns drift over quiet harbours",
        },
        format="json",
    )
    assert signed_up.status_code == 201
    change_link, sign_up_link = mail.outbox
    return verification_key(change_link), verification_key(sign_up_link)


def verify(key: str):
    return APIClient().post("/api/v1/auth/email/verify/", {"key": key}, format="json")


def test_an_address_claimed_twice_goes_to_the_sign_up_that_confirms_it_first(
    user: User, user_client: APIClient
) -> None:
    change_key, sign_up_key = claim_an_address_twice(user_client)
    old_email = user.email

    assert verify(sign_up_key).status_code == 200
    response = verify(change_key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_key"
    user.refresh_from_db()
    assert user.email == old_email
    assert not AuditEvent.objects.filter(kind="email.changed").exists()


def test_an_address_claimed_twice_is_a_conflict_for_a_change_confirmed_first(
    user: User, user_client: APIClient
) -> None:
    # The new account holds the address as its login email, unverified.
    change_key, _ = claim_an_address_twice(user_client)
    old_email = user.email

    response = verify(change_key)

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    user.refresh_from_db()
    assert user.email == old_email
    assert not EmailAddress.objects.filter(user=user, verified=True).exclude(
        email=old_email
    )
    assert not AuditEvent.objects.filter(kind="email.changed").exists()


# --- deletion --------------------------------------------------------------------------


def test_deleting_the_account_erases_it_and_ends_every_session(
    user: User, login: Callable
) -> None:
    first, second = login(user), login(user)
    client = bearer(first["access"])
    assert bearer(second["access"]).get("/api/v1/users/me/").status_code == 200
    username, email, user_id = user.username, user.email, user.pk

    response = client.delete(
        "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    for session in (first, second):
        assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401
        refresh = APIClient().post(
            "/api/v1/auth/token/refresh/",
            {"refresh": session["refresh"]},
            format="json",
        )
        assert refresh.status_code == 401
    shell = User.objects.get(pk=user_id)
    assert shell.username != username
    assert shell.email != email
    assert (shell.first_name, shell.last_name, shell.bio, shell.phone) == (
        "",
        "",
        "",
        "",
    )
    assert shell.is_active is False
    assert not shell.has_usable_password()
    assert not EmailAddress.objects.filter(user_id=user_id).exists()
    assert not AuthSession.objects.filter(user_id=user_id).exists()
    assert not PasswordHistory.objects.filter(user_id=user_id).exists()
    # the audit log keeps its events for the anonymous row, without where they came from
    events = AuditEvent.objects.filter(target_id=user_id)
    assert events.filter(kind="login.succeeded").count() == 2
    assert set(events.values_list("ip", flat=True)) == {None}
    assert events.filter(kind="user.deleted").exists()
    [goodbye] = mail.outbox
    assert goodbye.to == [email]
    # the name and the address are free again
    again = APIClient().post(
        "/api/v1/auth/register/",
        {
            "username": username,
            "email": email,
            "password": "a brand new passphrase here",
        },
        format="json",
    )
    assert again.status_code == 201
    assert User.objects.filter(username=username, email=email).exists()


def test_deletion_needs_the_password(user: User, user_client: APIClient) -> None:
    response = user_client.delete(
        "/api/v1/users/me/", {"password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["The password is incorrect."]}
    user.refresh_from_db()
    assert user.is_active is True
    assert user_client.get("/api/v1/users/me/").status_code == 200


def test_deletion_without_a_body_is_a_validation_error(user_client: APIClient) -> None:
    response = user_client.delete("/api/v1/users/me/")

    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_staff_erase_an_account_from_the_admin(user: User, login: Callable) -> None:
    session = login(user)
    admin, staff = otp_verified_staff_client()

    confirm = admin.post(
        "/admin/accounts/user/",
        {"action": "erase_personal_data", "_selected_action": [str(user.pk)]},
    )
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert User.objects.get(pk=user.pk).is_active is True  # nothing before confirming

    done = admin.post(
        "/admin/accounts/user/",
        {
            "action": "erase_personal_data",
            "_selected_action": [str(user.pk)],
            "confirmed": "yes",
        },
    )

    assert done.status_code == 302
    assert User.objects.get(pk=user.pk).is_active is False
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401
    event = AuditEvent.objects.get(kind="user.deleted", target_id=user.pk)
    assert event.actor == staff
    assert event.payload == {"by_staff": True}
