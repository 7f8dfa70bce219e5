"""Staff change a user's email address from the admin, through the verified change
(issue 12, Medium 2): a link to the new address, the address changes only once it is
followed, the old address is then told; the event names the staff member. Before, the
admin had no way to change an address but editing it raw (now read-only).

Who may (admins and up, on anyone below superadmin, never themselves) is in
``tests/accounts/test_access_matrix.py``.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from rest_framework.test import APIClient

from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from config.errors import ApplicationError
from tests.helpers import account, admin_client_for, verification_key

pytestmark = pytest.mark.django_db

SENT = "A link was sent to the new address; the email changes when it is followed."


def change_email(staff: User, user: User, new_email: str):
    return admin_client_for(staff).post(
        f"/admin/accounts/user/{user.pk}/email/", {"new_email": new_email}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_users_page_links_to_the_email_change() -> None:
    admin, user = account("admin"), account(email="ada@example.com")
    client = admin_client_for(admin)

    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = client.get(f"/admin/accounts/user/{user.pk}/email/")

    assert f'href="/admin/accounts/user/{user.pk}/email/"' in page.content.decode()
    assert "Change email address…" in page.content.decode()
    assert form.status_code == 200
    assert "ada@example.com" in form.content.decode()
    assert 'name="new_email"' in form.content.decode()


def test_staff_change_an_address_through_verification() -> None:
    admin = account("admin")
    user = account(email="ada@example.com")
    EmailAddress.objects.create(
        user=user, email=user.email, primary=True, verified=True
    )
    mail.outbox.clear()

    response = change_email(admin, user, "Ada.New@Example.com")

    assert response.redirect_chain[-1][0] == f"/admin/accounts/user/{user.pk}/change/"
    assert messages_of(response) == [SENT]
    user.refresh_from_db()
    assert user.email == "ada@example.com"  # nothing changes until the link is followed
    [link] = mail.outbox
    assert link.to == ["ada.new@example.com"]
    requested = AuditEvent.objects.get(kind=AuditKind.EMAIL_CHANGE_REQUESTED)
    assert (requested.actor, requested.target) == (admin, user)
    assert requested.payload == {"new_email": "ada.new@example.com"}
    mail.outbox.clear()

    verified = APIClient().post(
        "/api/v1/auth/email/verify/", {"key": verification_key(link)}, format="json"
    )

    assert verified.status_code == 200
    user.refresh_from_db()
    assert user.email == "ada.new@example.com"
    [notice] = mail.outbox  # the old address is told
    assert notice.to == ["ada@example.com"]
    assert "ada.new@example.com" in notice.body
    assert AuditEvent.objects.filter(kind=AuditKind.EMAIL_CHANGED, target=user).exists()


def test_an_address_of_another_account_tells_its_owner_and_staff_hear_the_same() -> (
    None
):
    admin = account("admin")
    user = account(email="ada@example.com")
    account(email="taken@example.com")
    mail.outbox.clear()

    response = change_email(admin, user, "taken@example.com")

    assert messages_of(response) == [SENT]
    [message] = mail.outbox
    assert message.to == ["taken@example.com"]  # its owner hears that someone tried
    assert "verify-email" not in message.body
    assert not EmailAddress.objects.filter(
        user=user, email="taken@example.com"
    ).exists()
    user.refresh_from_db()
    assert user.email == "ada@example.com"


@pytest.mark.parametrize(
    ("new_email", "error"),
    [
        ("not an address", "Enter a valid email address."),
        ("ADA@example.com", "This is already the account&#x27;s email address."),
    ],
)
def test_a_bad_address_is_refused_on_the_form(new_email: str, error: str) -> None:
    admin = account("admin")
    user = account(email="ada@example.com")
    mail.outbox.clear()

    response = change_email(admin, user, new_email)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(kind=AuditKind.EMAIL_CHANGE_REQUESTED).exists()


def test_moderators_are_refused_and_not_offered_the_change() -> None:
    moderator, user = account("moderator"), account(email="ada@example.com")
    client = admin_client_for(moderator)
    mail.outbox.clear()

    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    response = client.post(
        f"/admin/accounts/user/{user.pk}/email/", {"new_email": "new@example.com"}
    )

    assert "Change email address" not in page.content.decode()
    assert response.status_code == 403
    assert mail.outbox == []
    assert not EmailAddress.objects.filter(email="new@example.com").exists()


def test_an_unknown_account_leads_back_to_the_admin() -> None:
    admin = account("admin")

    response = admin_client_for(admin).get(
        "/admin/accounts/user/00000000-0000-0000-0000-000000000000/email/"
    )

    assert response.status_code == 302
    assert response.url == "/admin/"


def test_the_users_page_never_writes_the_email() -> None:
    """The address is read-only on the page: a posted ``email`` is ignored."""
    admin = account("admin")
    user = account(email="ada@example.com", bio="")
    client = admin_client_for(admin)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: form[name].value()
        for name in form.fields
        if form[name].value() not in (None, False)
    }
    data.update(
        {
            "email": "direct@example.com",
            "bans-TOTAL_FORMS": "0",
            "bans-INITIAL_FORMS": "0",
            "auth_sessions-TOTAL_FORMS": "0",
            "auth_sessions-INITIAL_FORMS": "0",
            "audit_events-TOTAL_FORMS": "0",
            "audit_events-INITIAL_FORMS": "0",
        }
    )

    client.post(f"/admin/accounts/user/{user.pk}/change/", data)

    user.refresh_from_db()
    assert user.email == "ada@example.com"
    assert not EmailAddress.objects.filter(email="direct@example.com").exists()


def test_a_refusal_of_the_service_is_told_on_the_users_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the service refuses after the page let staff in (the account changed
    meanwhile) is told as a message, and nothing is sent."""
    admin, user = account("admin"), account(email="ada@example.com")

    def refuse(**kwargs: object) -> None:
        raise ApplicationError("conflict", "This account changed; try again.")

    monkeypatch.setattr("accounts.admin.email_change.email_change_by_staff", refuse)
    mail.outbox.clear()

    response = change_email(admin, user, "new@example.com")

    assert response.redirect_chain[-1][0] == f"/admin/accounts/user/{user.pk}/change/"
    assert messages_of(response) == ["This account changed; try again."]
    assert mail.outbox == []
