"""Staff ``PATCH users/{id}/``: one atomic change of profile and active state, audited with
the staff member as actor (``services.moderation.user_update_by_staff``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.constants import AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, AuthSession, TOTPAuthenticator, User
from accounts.services.sessions import session_create
from config.client import SYSTEM

pytestmark = pytest.mark.django_db


def account(name: str, role: str = "user") -> User:
    user = User.objects.create(
        username=name, email=f"{name}@example.com", display_name=name
    )
    user.groups.add(Group.objects.get(name=role))
    if role != "user":
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        TOTPAuthenticator.objects.create(
            user=user,
            name="app",
            confirmed=True,
            encrypted_key=encrypt_secret(b"1" * 20),
        )
    return user


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {session_create(user=user, client=SYSTEM)[1].access}"
    )
    return client


def test_a_bad_field_leaves_the_account_as_it_was() -> None:
    moderator, target = account("moderator", "moderator"), account("target")
    session_create(user=target, client=SYSTEM)

    response = client_for(moderator).patch(
        f"/api/v1/users/{target.pk}/",
        {"is_active": False, "phone": "not a phone number"},
        format="json",
    )

    assert response.status_code == 400
    assert "phone" in response.json()["errors"]
    target.refresh_from_db()
    assert target.is_active  # the deactivation did not go through on its own
    assert AuthSession.objects.filter(user=target, revoked_at__isnull=True).exists()
    assert not AuditEvent.objects.filter(target=target).exists()


def test_the_changes_are_audited_with_the_staff_member_as_actor() -> None:
    moderator, target = account("moderator", "moderator"), account("target")

    response = client_for(moderator).patch(
        f"/api/v1/users/{target.pk}/",
        {"is_active": False, "bio": "Spam removed", "phone": "+33 6 12 34 56 78"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "+33612345678"
    events = AuditEvent.objects.filter(target=target)
    assert {(event.kind, event.actor_id) for event in events} == {
        (AuditKind.USER_DEACTIVATED, moderator.pk),
        (AuditKind.PROFILE_UPDATED, moderator.pk),
    }
    assert events.get(kind=AuditKind.PROFILE_UPDATED).payload == {
        "fields": ["bio", "phone"]
    }
