"""DRF authentication by API key: ``Authorization: Api-Key <key>`` or ``X-API-Key: <key>``.

The order of precedence is the contract's: the bearer token's class comes first in
``DEFAULT_AUTHENTICATION_CLASSES``, so a request with both is the bearer token's.

What a key costs:

- a malformed key, or one whose checksum fails (a typo, a made-up key), is refused with
  no lookup at all (``apikeys.keys.parse_key``);
- a warm key costs no query: the key's entry (``apikeys.state``) and its owner's snapshot
  (``accounts.session_state``) come from the cache; the secret is compared with the
  stored digest in constant time, under every ``SECRET_KEY`` (fallbacks included);
- a cold key costs one indexed query (the key by its unique prefix, joined with its
  owner and the profile's subqueries), which fills both entries. Unknown prefixes are
  remembered for ``API_KEY_UNKNOWN_CACHE_SECONDS``.

Refusals are ``401 not_authenticated``. Failures (malformed, unknown, revoked, expired,
wrong secret, owner not in good standing) count against ``api_key_failures_per_ip``;
an address over it is answered ``429 rate_limited`` before any further lookup (a warm,
valid key is not slowed by the check). A wrong secret with a real prefix is audited
(``apikey.rejected``, at most ``api_key_rejections_audited_per_key``).

Where a key may go is decided here, for every view: a view states the scopes each
method needs (``required_scopes = {"GET": "users:read", "PATCH": ("users:write",
"admin")}``); a method it does not list refuses keys altogether (``403
insufficient_scope``): so password, email, factor, session and key changes, and every
view that says nothing, are out of a stolen key's reach. Global keys go only where a
view says ``accepts_global_api_keys = True``. Bearer-token requests are unaffected.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.core.cache import cache
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from accounts.models import SessionUser, User
from accounts.selectors import ProfileAnnotations, profile_annotations
from accounts.session_state import (
    remember_user,
    snapshot_in_good_standing,
    user_for_credential,
)
from apikeys import state
from apikeys.keys import parse_key, secret_matches
from apikeys.models import ApiKey
from apikeys.scopes import Scope
from apikeys.services import api_key_rejection_record, api_key_use_record
from config.client import ClientInfo
from config.error_codes import ApplicationError
from config.ratelimits import LoginFailures, sliding_window

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations
    from drf_spectacular.openapi import AutoSchema

logger = logging.getLogger("gatehouse.apikeys")

API_KEY_SCHEME = "api-key"
API_KEY_HEADER = "HTTP_X_API_KEY"
# How often a key's last use is written: at most once this many seconds.
LAST_USE_INTERVAL_SECONDS = 60
FAILURES_LIMIT = "api_key_failures_per_ip"
REJECTIONS_AUDITED_LIMIT = "api_key_rejections_audited_per_key"

RequiredScopes = Mapping[str, str | Collection[str]]


@dataclass(frozen=True)
class ApiKeyClaims:
    """``request.auth`` of a request authenticated by an API key. ``quota_per_hour``/
    ``quota_per_day``: the key's own quota (``None``: its owner's role's limits), which
    ``limits.callers`` hands the limiter without a query."""

    key_id: uuid.UUID
    prefix: str
    scopes: frozenset[str]
    is_global: bool
    quota_per_hour: int | None = None
    quota_per_day: int | None = None

    def has_scopes(self, needed: Collection[str]) -> bool:
        return set(needed) <= self.scopes


class ServicePrincipal:
    """The caller behind a global key: authenticated, bound to no user, no role."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    username = ""

    def __init__(self, scopes: Collection[str]) -> None:
        self.api_key_scopes = tuple(scopes)

    def __str__(self) -> str:
        return "global API key"


def _refused(detail: str = "This API key is invalid, expired or revoked.") -> Exception:
    return exceptions.AuthenticationFailed(detail, code="not_authenticated")


def _insufficient_scope(detail: str) -> Exception:
    return exceptions.PermissionDenied(detail, code="insufficient_scope")


def _rate_limited(error: ApplicationError) -> Exception:
    wait = error.extra.get("retry_after") if error.extra else None
    return exceptions.Throttled(wait=wait, detail=error.detail, code="rate_limited")


def _load(prefix: str) -> dict[str, Any] | None:
    """The key's entry from the database (one indexed query, with its owner's profile);
    ``None`` when no live key has this prefix. Fills the cache either way, and the
    owner's snapshot when the owner is in good standing."""
    key = (
        ApiKey.objects.filter(prefix=prefix)
        .select_related("user")
        .annotate(**profile_annotations(through="user"))
        .first()
    )
    if key is None:
        state.fill(prefix, state.REVOKED, state.unknown_timeout())
        return None
    if key.revoked_at is not None:
        state.fill(prefix, state.REVOKED, state.tombstone_timeout())
        return None
    entry = state.entry_of(key)
    state.fill(prefix, entry, state.positive_timeout())
    if key.user is not None:
        # The annotations are on the key's row: lend them to its user.
        for name in ProfileAnnotations.__annotations__:
            setattr(key.user, name, getattr(key, name))
        snapshot = snapshot_in_good_standing(
            cast("WithAnnotations[User, ProfileAnnotations]", key.user)
        )
        if snapshot is not None:
            remember_user(key.user.pk, snapshot)
    return entry


def required_scopes_of(view: Any, method: str) -> tuple[str, ...] | None:
    """The scopes ``view`` needs of a key for ``method`` (``HEAD`` and ``OPTIONS`` as
    ``GET``), or ``None`` when it takes no key for it."""
    declared: RequiredScopes = getattr(view, "required_scopes", {}) or {}
    method = "GET" if method in {"HEAD", "OPTIONS"} else method
    if method not in declared:
        return None
    needed = declared[method]
    return (needed,) if isinstance(needed, str) else tuple(needed)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>`` or ``X-API-Key: <key>`` (see the module)."""

    def authenticate_header(self, request: Request) -> str:
        return 'Api-Key realm="api"'

    def authenticate(self, request: Request) -> tuple[Any, ApiKeyClaims] | None:
        raw = self._presented_key(request)
        if raw is None:
            return None
        parsed = parse_key(raw)
        if parsed is None:
            raise self._failed(request)
        cached = state.cached_entry(parsed.prefix)
        entry = cached.entry
        if entry is None:
            self._check_failures(request)
            entry = _load(parsed.prefix)
        if not isinstance(entry, dict):
            raise self._failed(request)
        if not secret_matches(parsed.secret, entry["digest"]):
            self._audit_rejection(request, parsed.prefix, entry)
            raise self._failed(request)
        expires_at = entry["expires_at"]
        if expires_at and datetime.fromisoformat(expires_at) <= timezone.now():
            raise self._failed(request)
        claims = ApiKeyClaims(
            key_id=uuid.UUID(entry["id"]),
            prefix=parsed.prefix,
            scopes=frozenset(entry["scopes"]),
            is_global=entry["user_id"] is None,
            # .get: an entry cached before quotas existed has none (until it expires).
            quota_per_hour=entry.get("quota_per_hour"),
            quota_per_day=entry.get("quota_per_day"),
        )
        user: SessionUser | ServicePrincipal | None
        if claims.is_global:
            user = ServicePrincipal(entry["scopes"])
        else:
            user = user_for_credential(entry["user_id"], snapshot=cached.owner_snapshot)
            if user is None:
                raise self._failed(request)
            user.api_key_scopes = tuple(entry["scopes"])
            state.remember_owner(parsed.prefix, entry["user_id"])
        self._check_scope(request, claims)
        if not cached.recently_used:
            self._note_use(request, claims)
        return user, claims

    def _presented_key(self, request: Request) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() == API_KEY_SCHEME:
            return credentials.strip()
        key = request.META.get(API_KEY_HEADER)
        return key.strip() if key else None

    @staticmethod
    def _failures(request: Request) -> LoginFailures:
        # Built only on a cold lookup or a failure: a warm, valid key pays nothing for it.
        return LoginFailures(request, "", ip_limit=FAILURES_LIMIT)

    def _check_failures(self, request: Request) -> None:
        # With the counters' cache down the limits fail open (config.ratelimits): the
        # database still answers.
        try:
            self._failures(request).check()
        except ApplicationError as error:
            raise _rate_limited(error) from None

    def _failed(self, request: Request) -> Exception:
        self._check_failures(request)
        failures = self._failures(request)
        failures.count()  # uncounted while the cache is down: refused all the same
        failures.failed()
        return _refused()

    def _audit_rejection(
        self, request: Request, prefix: str, entry: dict[str, Any]
    ) -> None:
        # With the counter's cache down it counts nothing: every rejection is audited.
        window = sliding_window(request, REJECTIONS_AUDITED_LIMIT, key=prefix)
        counted = window.count() if window is not None else None
        if counted is not None and counted.count > counted.limit:
            return
        api_key_rejection_record(
            key_id=entry["id"],
            prefix=prefix,
            owner_id=entry["user_id"],
            client=ClientInfo.from_request(request),
        )

    def _check_scope(self, request: Request, claims: ApiKeyClaims) -> None:
        view = (request.parser_context or {}).get("view")
        if claims.is_global and not getattr(view, "accepts_global_api_keys", False):
            raise _insufficient_scope("A global API key cannot be used here.")
        needed = required_scopes_of(view, request.method or "GET")
        if needed is None:
            raise _insufficient_scope(
                "API keys cannot be used here: sign in to do this."
            )
        if not claims.has_scopes(needed):
            raise _insufficient_scope(
                f"This API key lacks the scope this needs: {', '.join(needed)}."
            )

    def _note_use(self, request: Request, claims: ApiKeyClaims) -> None:
        """``last_used_at`` and the address, at most once a minute per key: the request
        that takes the minute's gate (``cache.add``) writes them, in one ``UPDATE``."""
        try:
            first = cache.add(
                state.use_cache_key(claims.prefix), 1, LAST_USE_INTERVAL_SECONDS
            )
        except Exception:  # any failure of the cache backend: skip the note
            return
        if first:
            api_key_use_record(
                key_id=str(claims.key_id), ip=ClientInfo.from_request(request).ip
            )


class RequiresScope:
    """A permission class for a view (or an extra check) that needs ``scopes`` of a key:
    ``permission_classes = [IsAuthenticated, RequiresScope("files:write")]``. Requests
    without a key pass (their own permissions decide)."""

    def __init__(self, *scopes: str) -> None:
        self.scopes = frozenset(Scope(scope).value for scope in scopes)

    def __call__(self) -> RequiresScope:
        return self

    def has_permission(self, request: Request, view: Any) -> bool:
        claims = request.auth
        if isinstance(claims, ApiKeyClaims) and not claims.has_scopes(self.scopes):
            raise _insufficient_scope(
                f"This API key lacks the scope this needs: {', '.join(sorted(self.scopes))}."
            )
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return self.has_permission(request, view)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents both ways to send a key: ``Authorization: Api-Key <key>`` and
    ``X-API-Key: <key>``."""

    target_class = ApiKeyAuthentication
    # config.openapi.API_KEY_SCHEMES names them too (not imported: it imports DRF's views).
    name = ["apiKeyAuth", "apiKeyHeader"]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Api-Key <key>`: a key from `/api/v1/api-keys/`.",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "`<key>`: a key from `/api/v1/api-keys/`.",
            },
        ]
