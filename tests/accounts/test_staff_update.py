"""Staff ``PATCH users/{id}/``: one atomic change of profile and active state, audited with
the staff member as actor (``services.moderation.user_update_by_staff``)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AuditKind
from accounts.models import AuditEvent, AuthSession
from accounts.services.moderation import user_update_by_staff
from accounts.services.sessions import session_create
from config.client import SYSTEM
from config.error_codes import ApplicationError
from tests.helpers import account, amr_of, client_for

pytestmark = pytest.mark.django_db


def test_a_bad_field_leaves_the_account_as_it_was() -> None:
    moderator, target = (
        account("moderator", username="moderator"),
        account(username="target"),
    )
    session_create(user=target, client=SYSTEM, amr=amr_of(target))

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
    moderator, target = (
        account("moderator", username="moderator"),
        account(username="target"),
    )

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


# --- What the service refuses on its own (the API and the admin never ask it) -----------


def test_fields_staff_may_not_change_are_refused_by_the_service_too() -> None:
    target = account(username="target")

    with pytest.raises(ValidationError) as refused:
        user_update_by_staff(
            actor=SYSTEM_ACTOR,
            user_id=target.pk,
            changes={"is_superuser": True},
            client=SYSTEM,
        )

    assert refused.value.message_dict == {
        "is_superuser": ["This field cannot be changed here."]
    }
    target.refresh_from_db()
    assert target.is_superuser is False


def test_the_last_superadmin_stays_active_even_for_the_system_actor() -> None:
    only = account("superadmin", username="only")

    with pytest.raises(ApplicationError) as refused:
        user_update_by_staff(
            actor=SYSTEM_ACTOR,
            user_id=only.pk,
            changes={"is_active": False},
            client=SYSTEM,
        )

    assert refused.value.code == "conflict"
    only.refresh_from_db()
    assert only.is_active is True
    assert not AuditEvent.objects.exists()
