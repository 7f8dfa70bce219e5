"""Deleting an account erases every model's data as its entry in ``accounts.user_data``
declares (the registry that the export reads too; its completeness test is in
test_export.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm
from rest_framework import serializers
from rest_framework.test import APIClient

from accounts.crypto import encrypt_secret, recovery_code_digest
from accounts.models import (
    Ban,
    EmailCodeDevice,
    PasswordHistory,
    ProfilePermission,
    RecoveryCode,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from accounts.services.blocking import user_block
from accounts.user_data import Kept, UserDataRegistry, user_data_registry, user_export
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def delete_own_account(client: APIClient) -> None:
    response = client.delete(
        "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 204, response.content


def is_empty(value: Any) -> bool:
    """No datum left: empty lists, and dicts whose every value is empty or zero."""
    if isinstance(value, dict):
        return all(is_empty(item) for item in value.values())
    return not value


def test_a_deleted_users_blocks_both_ways_and_object_permissions_are_gone(
    user: User, other_user: User, user_client: APIClient
) -> None:
    # Given blocks the user made and received, and object permissions they hold
    third = UserFactory()
    user_block(blocker=user, blocked=other_user)
    user_block(blocker=other_user, blocked=user)
    user_block(blocker=third, blocked=other_user)  # not the user's: stays
    assign_perm("auth.view_group", user, Group.objects.create(name="reviewers"))
    assign_perm("auth.view_group", other_user, Group.objects.get(name="reviewers"))

    delete_own_account(user_client)

    assert not ProfilePermission.objects.filter(content_object=user).exists()
    assert not ProfilePermission.objects.filter(user=user).exists()
    assert not UserObjectPermission.objects.filter(user=user).exists()
    # other people's blocks and permissions are theirs
    assert ProfilePermission.objects.filter(content_object=third).exists()
    assert UserObjectPermission.objects.filter(user=other_user).exists()


def test_after_deletion_the_export_holds_nothing_but_what_is_kept_on_purpose(
    user: User, other_user: User, user_client: APIClient
) -> None:
    # Given data in every section of the accounts app...
    TOTPAuthenticator.objects.create(
        user=user, name="app", confirmed=True, encrypted_key=encrypt_secret(b"k" * 20)
    )
    EmailCodeDevice.objects.create(user=user, name="Email codes", confirmed=True)
    codes = RecoveryCodeSet.objects.create(user=user, name="codes", confirmed=True)
    RecoveryCode.objects.create(device=codes, digest=recovery_code_digest("abcd"))
    PasswordHistory.objects.create(user=user, password="argon2$an-older-hash")
    Ban.objects.create(
        user=user,
        reason="spam",
        until=timezone.now() + timedelta(days=1),
        lifted_at=timezone.now(),
    )
    user_block(blocker=user, blocked=other_user)
    assign_perm("auth.view_group", user, Group.objects.create(name="reviewers"))
    before = user_export(user=user)
    assert all(not is_empty(before[entry.section]) for entry in user_data_registry), (
        "every section has data to erase"
    )

    delete_own_account(user_client)

    after = user_export(user=User.objects.get(pk=user.pk))
    for entry in user_data_registry:
        value = after[entry.section]
        if entry.section == "profile":
            assert value["username"].startswith("deleted_")
            assert (value["email"], value["is_active"]) != (user.email, True)
        elif entry.section == "security_events":
            # the timeline stays, without where events came from or what they named
            # (the deletion itself is recorded afterwards)
            earlier = [event for event in value if event["kind"] != "user.deleted"]
            assert earlier
            assert all(
                (event["ip"], event["user_agent"], event["payload"]) == (None, "", {})
                for event in earlier
            )
        elif isinstance(entry.erase, Kept):
            assert value == before[entry.section], entry.section
        else:
            assert is_empty(value), entry.section


def test_a_later_apps_erasure_runs_first_with_the_account_still_whole(
    user: User, user_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an app (files, say) registered after the accounts app
    seen: list[tuple[Any, str]] = []
    registry = UserDataRegistry()
    for entry in user_data_registry:
        registry.register(
            model=entry.model,
            section=entry.section,
            export=entry.export,
            schema=entry.schema,
            erase=entry.erase,
        )
    registry.register(
        model=User,
        section="files",
        export=lambda owner: [],
        schema=serializers.ListField(),
        erase=lambda owner: seen.append((owner.pk, owner.username)),
    )
    monkeypatch.setattr("accounts.services.deletion.user_data_registry", registry)
    username = user.username

    delete_own_account(user_client)

    # it ran once, inside the deletion, before the account row was anonymised
    assert seen == [(user.pk, username)]
    assert User.objects.get(pk=user.pk).username.startswith("deleted_")
