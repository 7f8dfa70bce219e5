"""Staff find and edit users in the Django admin."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import otp_verified_staff_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    return otp_verified_staff_client()[0]


def test_user_list_shows_readable_columns_and_searches(
    admin_client_logged_in: Client,
) -> None:
    UserFactory(
        username="grace", email="grace@example.com", display_name="Grace Hopper"
    )
    UserFactory(username="linus", email="linus@example.com")

    response = admin_client_logged_in.get("/admin/accounts/user/", {"q": "hopper"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "grace@example.com" in page
    assert "linus@example.com" not in page
    for column in ("Username", "Email address", "Display name", "Active", "Last login"):
        assert column in page


@pytest.mark.parametrize(
    "query", ["is_active__exact=0", "is_staff__exact=1", "language=en"]
)
def test_user_list_filters(admin_client_logged_in: Client, query: str) -> None:
    UserFactory(is_active=False)

    response = admin_client_logged_in.get(f"/admin/accounts/user/?{query}")

    assert response.status_code == 200


def test_staff_add_a_user_from_the_admin(admin_client_logged_in: Client) -> None:
    response = admin_client_logged_in.post(
        "/admin/accounts/user/add/",
        {
            "username": "heidi",
            "email": "Heidi@Example.com",
            "usable_password": "true",
            "password1": "a long enough password here",
            "password2": "a long enough password here",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    heidi = User.objects.get(username="heidi")
    assert heidi.email == "heidi@example.com"
    assert heidi.display_name == "heidi"
    assert heidi.check_password("a long enough password here")


def test_the_user_page_refuses_an_invalid_timezone(
    admin_client_logged_in: Client,
) -> None:
    user = UserFactory()

    response = admin_client_logged_in.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "timezone": "Nowhere/Special",
            "language": "en",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 200  # the form is shown again with the error
    assert "is not a time zone name" in response.content.decode()
    user.refresh_from_db()
    assert user.timezone == "UTC"


def test_the_admin_is_closed_to_non_staff(client: Client) -> None:
    client.force_login(UserFactory())

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db(transaction=True)
def test_staff_revoke_a_session_from_the_admin_and_its_token_dies(
    admin_client_logged_in: Client, user: User, login
) -> None:
    from accounts.models import AuthSession
    from tests.conftest import bearer

    tokens = login(user)
    assert bearer(tokens["access"]).get("/api/v1/users/me/").status_code == 200
    session = AuthSession.objects.get(user=user)

    response = admin_client_logged_in.post(
        "/admin/accounts/authsession/",
        {"action": "revoke_sessions", "_selected_action": [str(session.pk)]},
    )

    assert response.status_code == 302
    assert bearer(tokens["access"]).get("/api/v1/users/me/").status_code == 401
    assert user.audit_events.filter(kind="session.revoked").exists()


def test_audit_events_are_listed_and_read_only(
    admin_client_logged_in: Client, user: User
) -> None:
    from accounts.constants import AuditKind
    from accounts.models import AuditEvent

    event = AuditEvent.objects.create(
        kind=AuditKind.LOGIN_FAILED, target=user, ip="192.0.2.1"
    )

    listing = admin_client_logged_in.get(
        "/admin/accounts/auditevent/", {"q": user.username}
    )
    assert listing.status_code == 200
    assert "Failed sign-in attempt" in listing.content.decode()
    assert (
        admin_client_logged_in.get("/admin/accounts/auditevent/add/").status_code == 403
    )
    page = admin_client_logged_in.get(f"/admin/accounts/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    deleted = admin_client_logged_in.post(
        f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_ban_for_a_day_from_the_list_asks_a_reason_and_kills_tokens(
    user: User, login
) -> None:
    from django.core import mail

    from accounts.models import Ban
    from tests.conftest import bearer

    client = otp_verified_staff_client()[0]
    session = login(user)

    form = client.post(
        "/admin/accounts/user/",
        {"action": "ban_for_a_day", "_selected_action": [str(user.pk)]},
    )
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    assert not Ban.objects.exists()

    done = client.post(
        "/admin/accounts/user/",
        {
            "action": "ban_for_a_day",
            "_selected_action": [str(user.pk)],
            "reason": "spam",
        },
    )

    assert done.status_code == 302
    ban = Ban.objects.get(user=user)
    assert ban.reason == "spam"
    assert ban.until is not None
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401
    assert mail.outbox[-1].to == [user.email]
    listing = client.get("/admin/accounts/user/", {"banned": "yes"}).content.decode()
    assert user.username in listing
    assert "until" in listing
    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "spam" in page  # the ban history inline

    client.post(
        "/admin/accounts/user/", {"action": "unban", "_selected_action": [str(user.pk)]}
    )
    assert Ban.objects.in_force().count() == 0


@pytest.mark.parametrize(
    "query", ["verified=yes", "mfa=no", "banned=no", "groups__id__exact=1"]
)
def test_the_new_filters(admin_client_logged_in: Client, query: str) -> None:
    UserFactory()

    assert (
        admin_client_logged_in.get(f"/admin/accounts/user/?{query}").status_code == 200
    )


@pytest.mark.django_db(transaction=True)
def test_revoke_all_sessions_and_resend_verification_actions(login) -> None:
    from allauth.account.models import EmailAddress
    from django.core import mail

    from tests.conftest import bearer

    client = otp_verified_staff_client()[0]
    account = UserFactory()
    EmailAddress.objects.create(
        user=account, email=account.email, primary=True, verified=False
    )
    session = login(account)

    client.post(
        "/admin/accounts/user/",
        {"action": "revoke_all_sessions", "_selected_action": [str(account.pk)]},
    )
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401

    mail.outbox.clear()
    client.post(
        "/admin/accounts/user/",
        {"action": "resend_verification", "_selected_action": [str(account.pk)]},
    )
    [message] = mail.outbox
    assert "verify-email" in message.body
