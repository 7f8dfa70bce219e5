"""The key lookup's edges: unknown prefixes, revoked keys read cold, owners gone or
banned when the key is first read, rate limits switched off, and a cache that refuses
(reads answered from the database; a revocation the cache cannot record is not made)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.cache import cache, caches
from redis.exceptions import ConnectionError, ResponseError
from rest_framework.test import APIClient, APIRequestFactory

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AMR_PASSWORD, AuditKind
from accounts.models import AuditEvent, Ban, User
from accounts.session_state import forget_user
from apikeys.authentication import ApiKeyAuthentication, RequiresScope
from apikeys.keys import checksum, parse_key
from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke
from apikeys.state import REVOKED, forget_unknown, key_cache_key
from config.client import SYSTEM
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


@contextmanager
def cache_refusing(*methods: str, error: Exception | None = None) -> Iterator[None]:
    backend = caches["default"]
    failure = error or ResponseError("OOM command not allowed")
    with mock.patch.multiple(
        backend, **{name: mock.Mock(side_effect=failure) for name in methods}
    ):
        yield


def make(owner: User | None = None, **overrides: object) -> tuple[ApiKey, str]:
    arguments: dict = {"name": "k", "scopes": None, "expires_at": None}
    if owner is None:
        arguments["scopes"] = ["users:read"]
    arguments.update(overrides)
    return api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=owner.pk if owner else None,
        client=SYSTEM,
        **arguments,
    )


def me(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client.get(ME).status_code


def test_an_unknown_prefix_costs_one_lookup_then_none() -> None:
    body = "gth_" + "Q" * 10 + "_" + "s" * 32
    forged = body + checksum(body)

    assert me(forged) == 401
    assert cache.get(key_cache_key("Q" * 10)) == REVOKED  # remembered, briefly
    assert not AuditEvent.objects.filter(kind=AuditKind.API_KEY_REJECTED).exists()


def test_a_new_key_is_not_refused_for_a_prefix_remembered_as_unknown(
    django_capture_on_commit_callbacks,
) -> None:
    owner = account()
    with mock.patch("apikeys.services.generate_key") as generate:
        body = "gth_" + "P" * 10 + "_" + "s" * 32
        generate.return_value = (body + checksum(body), "P" * 10, "s" * 32)
        assert me(body + checksum(body)) == 401  # unknown: remembered
        with django_capture_on_commit_callbacks(execute=True):
            make(owner)

    assert me(body + checksum(body)) == 200


def test_a_revoked_key_read_cold_is_refused_and_remembered() -> None:
    owner = account()
    key, raw = make(owner)
    api_key_revoke(actor=SYSTEM_ACTOR, key_id=key.pk, client=SYSTEM)
    cache.clear()

    assert me(raw) == 401
    assert cache.get(key_cache_key(key.prefix)) == REVOKED


def test_a_banned_owner_read_cold_is_refused() -> None:
    owner = account()
    _, raw = make(owner)
    Ban.objects.create(user=owner, reason="spam")
    cache.clear()

    assert me(raw) == 401


def test_an_owner_deleted_from_the_database_is_refused() -> None:
    """A row deleted behind the services' back (the keys go with it, by cascade): the
    key's cached entry is still there, but the owner is not."""
    owner = account()
    _, raw = make(owner)
    assert me(raw) == 200
    User.objects.filter(pk=owner.pk).delete()
    forget_user(owner.pk)

    assert me(raw) == 401


def test_with_rate_limits_off_every_wrong_secret_is_audited(settings) -> None:
    settings.RATELIMIT_ENABLE = False
    owner = account()
    _, raw = make(owner)
    prefix = parse_key(raw).prefix
    for letter in "WXYZ":
        body = f"gth_{prefix}_{letter * 32}"
        assert me(body + checksum(body)) == 401

    assert AuditEvent.objects.filter(kind=AuditKind.API_KEY_REJECTED).count() == 4


def test_a_cache_that_cannot_be_read_answers_from_the_database() -> None:
    owner = account()
    _, raw = make(owner)

    with cache_refusing("get", "get_many", error=ConnectionError("down")):
        assert me(raw) == 200
        # nor can the failures be counted: refused, not a server error
        assert me(raw[:-1] + ("A" if raw[-1] != "A" else "B")) == 401


def test_a_cache_that_refuses_writes_still_answers_and_skips_the_last_use() -> None:
    owner = account()
    key, raw = make(owner)

    with cache_refusing("add", "set", "set_many"):
        assert me(raw) == 200

    assert ApiKey.objects.get(pk=key.pk).last_used_at is None


def test_a_revocation_the_cache_refuses_is_not_made() -> None:
    owner = account()
    key, raw = make(owner)
    assert me(raw) == 200

    response = client_for(owner)
    with cache_refusing("set_many"):
        answer = response.delete(f"/api/v1/api-keys/{key.pk}/")

    assert answer.status_code == 503
    assert answer.json()["code"] == "service_unavailable"
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert not AuditEvent.objects.filter(kind=AuditKind.API_KEY_REVOKED).exists()


def test_a_refused_write_after_the_commit_is_logged_and_the_first_tombstone_holds(
    django_capture_on_commit_callbacks, caplog
) -> None:
    owner = account()
    key, raw = make(owner)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api_key_revoke(actor=SYSTEM_ACTOR, key_id=key.pk, client=SYSTEM)
    with cache_refusing("set_many", "delete"):
        for callback in callbacks:
            callback()

    assert "refused the tombstones after commit" in caplog.text
    assert me(raw) == 401


def test_a_refused_forget_of_an_unknown_prefix_is_logged(
    django_capture_on_commit_callbacks, caplog
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        forget_unknown("P" * 10)
    with cache_refusing("delete"):
        for callback in callbacks:
            callback()

    assert "refused a delete" in caplog.text


def test_a_key_taken_by_a_racing_request_writes_no_second_last_use() -> None:
    owner = account()
    key, raw = make(owner)
    with mock.patch.object(caches["default"], "add", return_value=False):
        assert me(raw) == 200
    assert ApiKey.objects.get(pk=key.pk).last_used_at is None


def test_staff_without_their_second_factor_cannot_make_admin_or_global_keys() -> None:
    admin = account("admin")
    client = client_for(admin, amr=AMR_PASSWORD)

    admin_key = client.post(
        "/api/v1/api-keys/", {"name": "x", "scopes": ["admin"]}, format="json"
    )
    global_key = client.post(
        "/api/v1/api-keys/",
        {"name": "x", "global": True, "scopes": ["users:read"]},
        format="json",
    )

    assert admin_key.status_code == 403
    assert admin_key.json()["code"] == "mfa_setup_required"
    assert global_key.status_code == 403
    assert global_key.json()["code"] == "mfa_setup_required"
    assert not ApiKey.objects.exists()


def test_used_alone_the_class_asks_for_a_key() -> None:
    request = APIRequestFactory().get("/")
    assert ApiKeyAuthentication().authenticate_header(request) == 'Api-Key realm="api"'


def test_requires_scope_checks_objects_too() -> None:
    permission = RequiresScope("users:read")()
    request = mock.Mock(auth=None)
    assert permission.has_object_permission(request, None, object())


def test_a_wrong_secret_is_audited_when_its_counter_cannot_be_kept(caplog) -> None:
    owner = account()
    _, raw = make(owner)
    prefix = parse_key(raw).prefix
    body = f"gth_{prefix}_{'W' * 32}"

    with mock.patch(
        "config.sliding_window.SlidingWindow.count", side_effect=ConnectionError("down")
    ):
        assert me(body + checksum(body)) == 401

    assert AuditEvent.objects.filter(kind=AuditKind.API_KEY_REJECTED).count() == 1
    # The named limits fail open (config.ratelimits), logged as the groups' do.
    assert "Rate limits fail open" in caplog.text
