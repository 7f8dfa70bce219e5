"""The services behind every way in (API, admin, manage.py): who may make and revoke
which key, the scopes a key gets, the audit events and emails, and revocation taking
effect in the cache before the commit."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AuditKind
from accounts.models import AuditEvent
from apikeys.keys import parse_key, secret_matches
from apikeys.models import ApiKey
from apikeys.scopes import DEFAULT_SCOPES, Scope
from apikeys.selectors import api_key_by_prefix, api_keys_all, api_keys_of
from apikeys.services import api_key_create, api_key_revoke
from apikeys.state import REVOKED, key_cache_key
from config.client import SYSTEM
from config.errors import ApplicationError
from tests.helpers import account

pytestmark = pytest.mark.django_db


def make(actor, owner, **overrides):
    arguments = {
        "name": "ci",
        "scopes": None,
        "expires_at": None,
        "client": SYSTEM,
    }
    arguments.update(overrides)
    return api_key_create(
        actor=actor, owner_id=owner.pk if owner else None, **arguments
    )


def test_a_user_makes_a_key_that_stores_only_a_digest(
    django_capture_on_commit_callbacks,
) -> None:
    owner = account()
    with django_capture_on_commit_callbacks(execute=True):
        key, full = make(owner, owner, name="  laptop  ")

    parsed = parse_key(full)
    assert parsed is not None
    assert parsed.prefix == key.prefix
    stored = ApiKey.objects.get(pk=key.pk)
    assert parsed.secret not in stored.secret_hash
    assert secret_matches(parsed.secret, stored.secret_hash)
    assert stored.name == "laptop"
    assert stored.scopes == [str(scope) for scope in DEFAULT_SCOPES]
    assert stored.user == owner
    assert stored.created_by == owner
    assert stored.is_live
    assert not stored.is_global
    event = AuditEvent.objects.get(kind=AuditKind.API_KEY_CREATED)
    assert (event.actor, event.target) == (owner, owner)
    assert event.payload["prefix"] == key.prefix
    assert full not in str(event.payload)
    assert parsed.secret not in str(event.payload)
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert key.prefix in message.body
    assert parsed.secret not in message.body


def test_default_scopes_leave_out_admin_and_introspection() -> None:
    assert Scope.ADMIN not in DEFAULT_SCOPES
    assert Scope.TOKENS_INTROSPECT not in DEFAULT_SCOPES
    assert len(DEFAULT_SCOPES) == 6


@pytest.mark.parametrize(
    ("scopes", "field"),
    [
        (["users:read", "nonsense"], "scopes"),
        ([], "scopes"),
        (["admin"], "scopes"),  # a plain user is not staff
        (["tokens:introspect"], "scopes"),  # only on global keys
    ],
)
def test_scopes_a_users_key_cannot_have(scopes: list[str], field: str) -> None:
    owner = account()
    with pytest.raises(ValidationError) as refused:
        make(owner, owner, scopes=scopes)
    assert field in refused.value.message_dict
    assert not ApiKey.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditKind.API_KEY_CREATED).exists()


def test_staff_may_give_their_own_key_the_admin_scope() -> None:
    staff = account("admin")
    key, _ = make(staff, staff, scopes=["admin", "users:read", "users:read"])
    assert key.scopes == ["users:read", "admin"]


@pytest.mark.parametrize(
    ("name", "expires_in"), [("", None), ("x" * 101, None), ("ok", -1)]
)
def test_bad_names_and_past_expiry_are_refused(
    name: str, expires_in: int | None
) -> None:
    owner = account()
    expires_at = timezone.now() + timedelta(seconds=expires_in) if expires_in else None
    with pytest.raises(ValidationError):
        make(owner, owner, name=name, expires_at=expires_at)
    assert not ApiKey.objects.exists()


def test_global_keys_are_for_admins_with_explicit_scopes() -> None:
    admin = account("admin")
    moderator = account("moderator")
    user = account()

    for refused in (moderator, user):
        with pytest.raises(ApplicationError) as error:
            make(refused, None, scopes=["tokens:introspect"])
        assert error.value.code == "permission_denied"
    with pytest.raises(ValidationError):
        make(admin, None)  # no scopes

    key, _ = make(admin, None, scopes=["tokens:introspect"])
    assert key.is_global
    assert key.created_by == admin
    assert AuditEvent.objects.get(kind=AuditKind.API_KEY_CREATED).target is None
    assert ApiKey.objects.count() == 1


def test_a_key_for_someone_else_is_the_systems_to_make() -> None:
    owner, admin, stranger = account(), account("admin"), account()

    with pytest.raises(ApplicationError) as as_staff:
        make(admin, owner)
    with pytest.raises(ApplicationError) as as_user:
        make(stranger, owner)
    key, _ = make(SYSTEM_ACTOR, owner)

    assert as_staff.value.code == "permission_denied"
    assert as_user.value.code == "not_found"  # a user sees no one else's account
    assert key.user == owner
    assert key.created_by is None
    assert AuditEvent.objects.get(kind=AuditKind.API_KEY_CREATED).actor is None


def test_an_unknown_owner_is_not_found() -> None:
    with pytest.raises(ApplicationError) as error:
        api_key_create(
            actor=SYSTEM_ACTOR,
            owner_id=uuid.uuid4(),
            name="x",
            scopes=None,
            expires_at=None,
            client=SYSTEM,
        )
    assert error.value.code == "not_found"


def test_revocation_writes_the_tombstone_before_the_commit_and_emails_the_owner(
    django_capture_on_commit_callbacks,
) -> None:
    owner = account()
    key, _ = make(owner, owner)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        revoked = api_key_revoke(actor=owner, key_id=key.pk, client=SYSTEM)
        assert cache.get(key_cache_key(key.prefix)) == REVOKED  # before the commit
    for callback in callbacks:
        callback()

    assert revoked.revoked_at is not None
    assert revoked.revoked_by == owner
    assert not ApiKey.objects.get(pk=key.pk).is_live
    event = AuditEvent.objects.get(kind=AuditKind.API_KEY_REVOKED)
    assert (event.actor, event.target) == (owner, owner)
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert key.prefix in message.body


def test_revoking_a_revoked_key_changes_nothing() -> None:
    owner = account()
    key, _ = make(owner, owner)
    first = api_key_revoke(actor=owner, key_id=key.pk, client=SYSTEM)

    again = api_key_revoke(actor=owner, key_id=key.pk, client=SYSTEM)

    assert again.revoked_at == first.revoked_at
    assert AuditEvent.objects.filter(kind=AuditKind.API_KEY_REVOKED).count() == 1


def test_who_revokes_whose_key() -> None:
    owner, stranger = account(), account()
    moderator, admin = account("moderator"), account("admin")
    users_key, _ = make(owner, owner)
    admins_key, _ = make(admin, admin)
    global_key, _ = make(admin, None, scopes=["users:read"])

    def refused(actor, key) -> str:
        with pytest.raises(ApplicationError) as error:
            api_key_revoke(actor=actor, key_id=getattr(key, "pk", key), client=SYSTEM)
        return error.value.code

    assert refused(stranger, users_key) == "not_found"
    assert refused(stranger, global_key) == "not_found"
    assert refused(moderator, admins_key) == "permission_denied"
    assert refused(moderator, global_key) == "permission_denied"
    assert refused(owner, uuid.uuid4()) == "not_found"
    assert not ApiKey.objects.filter(revoked_at__isnull=False).exists()

    api_key_revoke(actor=moderator, key_id=users_key.pk, client=SYSTEM)
    api_key_revoke(actor=admin, key_id=global_key.pk, client=SYSTEM)
    api_key_revoke(actor=SYSTEM_ACTOR, key_id=admins_key.pk, client=SYSTEM)
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 3


def test_a_global_keys_revocation_emails_nobody() -> None:
    admin = account("admin")
    key, _ = make(admin, None, scopes=["users:read"])
    mail.outbox.clear()

    api_key_revoke(actor=admin, key_id=key.pk, client=SYSTEM)

    assert mail.outbox == []
    assert AuditEvent.objects.get(kind=AuditKind.API_KEY_REVOKED).target is None


def test_selectors() -> None:
    owner, other, admin = account(), account(), account("admin")
    first, _ = make(owner, owner, name="first")
    second, _ = make(owner, owner, name="second")
    make(other, other)
    global_key, _ = make(admin, None, scopes=["users:read"])

    assert list(api_keys_of(owner)) == [second, first]
    assert api_key_by_prefix(first.prefix) == first
    assert api_key_by_prefix("nope") is None
    assert api_keys_all().count() == 4
    assert global_key in api_keys_all()
    assert str(first) == f"API key 'first' (gth_{first.prefix}_…) of {owner.username}"


def test_an_expired_key_is_not_live() -> None:
    owner = account()
    key, _ = make(owner, owner, expires_at=timezone.now() + timedelta(minutes=1))
    assert key.is_live
    key.expires_at = timezone.now() - timedelta(seconds=1)
    assert key.is_expired
    assert not key.is_live


def test_erasing_an_account_deletes_its_keys_at_once_and_forgets_it_elsewhere() -> None:
    owner, admin = account(), account("admin")
    key, _ = make(owner, owner)
    global_key, _ = make(admin, None, scopes=["users:read"])
    api_key_revoke(actor=admin, key_id=global_key.pk, client=SYSTEM)

    from apikeys.user_data import erase_api_keys

    erase_api_keys(owner)
    erase_api_keys(admin)

    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert cache.get(key_cache_key(key.prefix)) == REVOKED
    global_key.refresh_from_db()
    assert (global_key.created_by, global_key.revoked_by) == (None, None)


def test_the_export_lists_the_keys_metadata_and_never_a_secret(
    user_client, user
) -> None:
    key, full = make(user, user, name="laptop")
    api_key_revoke(actor=user, key_id=key.pk, client=SYSTEM)

    document = user_client.get("/api/v1/users/me/export/").json()

    [exported] = document["api_keys"]
    assert exported["id"] == str(key.pk)
    assert exported["name"] == "laptop"
    assert exported["prefix"] == key.prefix
    assert exported["revoked_at"] is not None
    assert set(exported) == {
        "id",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "last_used_ip",
        "quota_per_hour",
        "quota_per_day",
    }
    assert key.secret_hash not in str(document)
    assert parse_key(full).secret not in str(document)
