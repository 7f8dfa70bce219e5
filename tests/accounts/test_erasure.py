"""Deleting an account erases every model's data as its entry in ``accounts.user_data``
declares (the registry that the export reads too; its completeness test is in
test_export.py)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import CharField, JSONField, Model, TextField
from django.utils import timezone
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm
from rest_framework import serializers
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR
from accounts.crypto import encrypt_secret, recovery_code_digest
from accounts.models import (
    AuthSession,
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
from accounts.user_data import (
    Kept,
    UserDataRegistry,
    kept,
    user_data_registry,
    user_export,
)
from apikeys.services import api_key_create
from config.client import SYSTEM
from files.avatars import avatar_set
from files.constants import SharePermission
from files.services import file_share, file_upload
from flags.models import FlagChange
from flags.services import flag_create
from limits.models import AddressBan
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.files.avatar_images import png_bytes
from tests.helpers import bearer, log_in

pytestmark = pytest.mark.django_db


def delete_own_account(client: APIClient) -> None:
    response = client.delete(
        "/api/v1/users/me/", {"password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 204, response.content


def log_admin_change(
    record: Model, message: str, *, by: User | None = None, flag: int = CHANGE
) -> LogEntry:
    """An entry of the admin's change log about ``record``, as the admin writes one."""
    staff = by or UserFactory(is_staff=True)
    return LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(
            record, for_concrete_model=False
        ),
        object_id=str(record.pk),
        object_repr=str(record)[:200],
        action_flag=flag,
        change_message=message,
    )


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
    user: User, other_user: User, user_client: APIClient, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
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
    # (a share before the block: the blocked account could not share with the user)
    settings.MEDIA_ROOT = tmp_path
    file_upload(
        actor=user,
        content=ContentFile(b"my notes", name="notes.txt"),
        name=f"{user.username}'s notes.txt",
        description=f"about {user.username}",
        client=SYSTEM,
    )
    theirs = file_upload(
        actor=other_user, content=ContentFile(b"shared"), name="x.txt", client=SYSTEM
    )
    file_share(
        actor=other_user,
        file_id=theirs.pk,
        user_id=user.pk,
        permission=SharePermission.VIEW,
        client=SYSTEM,
    )
    user_block(blocker=user, blocked=other_user)
    assign_perm("auth.view_group", user, Group.objects.create(name="reviewers"))
    log_admin_change(user, f"Changed bio of {user.username}.")
    api_key_create(
        actor=user,
        owner_id=user.pk,
        name=f"{user.username}'s laptop",
        scopes=None,
        expires_at=None,
        client=SYSTEM,
    )
    flag = flag_create(
        name="beta",
        actor=SYSTEM_ACTOR,
        client=SYSTEM,
        source=FlagChange.Source.COMMAND,
        rules={"users": [str(user.pk)]},
    )
    FlagChange.objects.create(  # as if the user had been staff once
        flag=flag, actor=user, source=FlagChange.Source.API, changes={"note": {}}
    )
    AddressBan.objects.create(  # as if the user had been staff once
        address="203.0.113.9",
        reason="scraping",
        created_by=user,
        until=timezone.now() + timedelta(hours=1),
    )
    avatar = avatar_set(
        user=user, actor=user, client=SYSTEM, upload=io.BytesIO(png_bytes())
    )
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
        elif entry.section == "bans":
            # the moderation history stays, without what was written about the person
            assert [ban["reason"] for ban in value] == [""]
            assert [{**ban, "reason": ""} for ban in before["bans"]] == value
        elif entry.section == "admin_changes":
            # so does the admin's log, without what it said of the records
            assert [change["change_message"] for change in value] == [""]
        elif isinstance(entry.erase, Kept):  # feature_flag_changes, address_bans
            assert value == before[entry.section], entry.section
        else:
            assert is_empty(value), entry.section
    assert not default_storage.exists(avatar.storage_name)  # the avatar's bytes too


def test_a_later_apps_erasure_runs_first_with_the_account_still_whole(
    user: User, user_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an app registered after the accounts app
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
        section="later_app",
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


def test_the_admins_log_about_a_deleted_account_and_its_rows_says_nothing_of_them(
    user: User, other_user: User, user_client: APIClient
) -> None:
    # Given the admin's log of changes to the account, to rows of it (an address, a
    # session) and to someone else's account...
    staff = UserFactory(is_staff=True)
    address = EmailAddress.objects.create(user=user, email="second@example.com")
    session = AuthSession.objects.filter(user=user).get()
    about_user = [
        log_admin_change(user, '[{"changed": {"fields": ["Bio"]}}]', by=staff),
        log_admin_change(address, "Added second@example.com", by=staff, flag=ADDITION),
        log_admin_change(session, "Revoked.", by=staff),
    ]
    about_other = log_admin_change(other_user, f"Changed {other_user.username}.")
    # ...and, the user being staff too, an entry they made about the other account
    made_by_user = log_admin_change(other_user, "Changed bio.", by=user)
    exported = user_export(user=user)["admin_changes"]
    assert [change["change_message"] for change in exported] == [
        "Revoked.",
        "Added second@example.com",
        "Changed Bio.",
    ]
    assert [change["object_type"] for change in exported] == [
        "accounts.authsession",
        "account.emailaddress",
        "accounts.user",
    ]

    delete_own_account(user_client)

    for entry in about_user:
        entry.refresh_from_db()
        assert (entry.object_repr, entry.change_message) == ("", "")
        assert entry.user == staff  # when, who and what kind of change stay
    for entry in (about_other, made_by_user):
        before = (entry.object_repr, entry.change_message)
        entry.refresh_from_db()
        assert (entry.object_repr, entry.change_message) == before


def test_a_deleted_accounts_bans_stay_without_their_reasons(
    user: User, user_client: APIClient
) -> None:
    moderator = UserFactory(is_staff=True)
    ban = Ban.objects.create(
        user=user,
        reason=f"{user.username} posted their neighbour's phone number",
        created_by=moderator,
        until=timezone.now() + timedelta(days=1),
        lifted_at=timezone.now(),
    )

    delete_own_account(user_client)

    ban.refresh_from_db()
    assert ban.reason == ""
    assert (ban.user_id, ban.created_by) == (user.pk, moderator)


def test_erasures_registered_to_run_first_run_before_every_other() -> None:
    seen: list[str] = []
    registry = UserDataRegistry()
    for section, first in (("base", False), ("log", True), ("later_app", False)):
        registry.register(
            model=User,
            section=section,
            export=lambda owner: [],
            schema=serializers.ListField(),
            erase=lambda owner, section=section: seen.append(section),
            erase_first=first,
        )

    registry.erase(UserFactory.build())

    assert seen == ["log", "later_app", "base"]


# Every concrete field of the user model, filled with personal data (the markers below
# are searched for everywhere afterwards). A new field fails
# test_every_user_field_is_classified until it is added here, or to NOT_PERSONAL with
# the reason, and erased.
PERSONAL = {
    "username": "zebulon_quuxley",
    "email": "zebulon.quuxley@example.com",
    "first_name": "Zebulon",
    "last_name": "Quuxley",
    "display_name": "Zebulon Q.",
    "bio": "Zebulon lives on the Chatham Islands.",
    "phone": "+64 3 305 0000",
    "timezone": "Pacific/Chatham",
    "language": "fr",
    "last_login": datetime(2026, 3, 17, 9, 41, 5, tzinfo=UTC),
    "date_joined": datetime(2025, 7, 23, 18, 2, 44, tzinfo=UTC),
    "is_staff": True,
    "is_superuser": True,
}
MARKERS = ("zebulon", "quuxley", "chatham", "305 0000")
NOT_PERSONAL = {
    "id": "the row's identity: audit events keep pointing at one anonymous account",
    "password": "replaced by an unusable one (checked below)",
    "is_active": "the account's state: false once deleted (checked below)",
    "sessions_revoked_at": "written by the deletion itself, which ends every session",
}


def test_every_user_field_is_classified() -> None:
    fields = {field.name for field in User._meta.concrete_fields}

    assert set(PERSONAL) | set(NOT_PERSONAL) == fields
    assert not set(PERSONAL) & set(NOT_PERSONAL)


def test_no_personal_datum_survives_a_deletion_anywhere_in_the_database(
    other_user: User,
) -> None:
    # Given an account with every field filled, and its data in other tables
    user = UserFactory(**PERSONAL)
    # A new superuser's address is verified already (accounts.signals).
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": True}
    )
    user.groups.add(Group.objects.get_or_create(name="moderator")[0])
    client = bearer(log_in(user)["access"])
    User.objects.filter(pk=user.pk).update(last_login=PERSONAL["last_login"])
    change = client.post(
        "/api/v1/users/me/email/",
        {"new_email": "zebulon@elsewhere.example", "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert change.status_code == 202
    Ban.objects.create(
        user=user, reason="Zebulon Quuxley spammed", lifted_at=timezone.now()
    )
    log_admin_change(user, "Changed bio to: Zebulon lives on the Chatham Islands.")
    user_block(blocker=user, blocked=other_user)

    delete_own_account(client)

    # Then the account row is anonymous...
    after = User.objects.get(pk=user.pk)
    for name, value in PERSONAL.items():
        assert getattr(after, name) != value, name
    assert (after.timezone, after.language, after.last_login) == ("UTC", "en", None)
    # the date joined is kept to its month
    assert after.date_joined == datetime(2025, 7, 1, tzinfo=UTC)
    assert not after.is_active
    assert not after.has_usable_password()
    assert not after.groups.exists()
    # ...and no text of any table still holds any of its data
    survivors = []
    for model in apps.get_models():
        texts = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, CharField | TextField | JSONField)
        ]
        if not texts or model._meta.proxy:
            continue
        for row in model._default_manager.values_list("pk", *texts):
            for value in row[1:]:
                if any(marker in str(value).lower() for marker in MARKERS):
                    survivors.append(f"{model._meta.label} {row[0]}: {value!r}")
    assert survivors == []


def test_an_entry_kept_on_purpose_leaves_its_rows(user: User) -> None:
    # A later app may keep rows (erase=kept("why")); none of the accounts app's does.
    ban = Ban.objects.create(user=user, reason="spam")
    registry = UserDataRegistry()
    registry.register(
        model=Ban,
        section="bans",
        export=lambda owner: [],
        schema=serializers.ListField(),
        erase=kept("Kept for the moderation history of a later app's own rows."),
    )

    registry.erase(user)

    ban.refresh_from_db()
    assert ban.reason == "spam"
