"""The data export (``users/me/export/``): every datum held about a user, in one document.

The document is built from a registry, never from a hard-coded list: every app registers
one exporter per model of its own that holds a user's data::

    register_exporter(
        section="api_keys",
        model=ApiKey,
        export=export_api_keys,  # (user) -> JSON-ready value, usually a list of dicts
        schema=ExportApiKeySerializer(many=True),  # documents that value in the schema
    )

from its ``AppConfig.ready()``, so ``accounts`` (the base app) never imports a higher one.
The document is ``{"exported_at": ..., <section>: <value>, ...}`` in registration order.
A section exists only once an exporter is registered for it: ``api_keys``, ``files``,
``notifications`` and ``bans`` appear when their apps have models, ``social_accounts``
when allauth's socialaccount app is installed (its exporter belongs here, beside the one
of allauth's ``EmailAddress``). Until then they are absent from the document and from the
OpenAPI schema, which the API builds from this registry.

Rules for an exporter:

- only the user's own data: rows filtered by the user's id, and nothing that describes
  another person (see ``accounts.activity.shows_origin``);
- no secret, ever: no password hash, token, key, refresh ``jti``, recovery code; select
  only the columns exported (``values()``), so a secret is never even loaded;
- a bounded number of queries (one, ideally) whatever the number of rows;
- its ``schema`` names exactly the keys it renders (a test compares the two).

``tests/accounts/test_export.py`` fails for any installed model with a foreign key,
one-to-one or many-to-many relation to the user model that no exporter covers and that
its allow-list does not justify.

The accounts app's own exporters are registered at the end of this module (and the
registry is only read by code that imports it), so they are always in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from guardian.models import UserObjectPermission
from rest_framework import serializers

from accounts.activity import activity_item
from accounts.models import (
    BLOCKED_FROM_PROFILE,
    AuditEvent,
    AuthSession,
    Ban,
    PasswordHistory,
    ProfilePermission,
    RecoveryCode,
    RecoveryCodeSet,
    TOTPAuthenticator,
    User,
)
from accounts.selectors import iso_timestamp, profile_annotations, user_profile
from accounts.serializers import UserProfileSerializer

# Keys of the document that are not sections.
RESERVED_KEYS = frozenset({"exported_at"})


@dataclass(frozen=True, eq=False)
class Exporter:
    """How one model's rows about a user become one section of the export."""

    section: str
    model: type[models.Model]
    export: Callable[[User], Any]
    schema: serializers.Field


class ExportRegistry:
    def __init__(self) -> None:
        self._exporters: dict[str, Exporter] = {}

    def register(
        self,
        *,
        section: str,
        model: type[models.Model],
        export: Callable[[User], Any],
        schema: serializers.Field,
    ) -> Exporter:
        """Add the section ``section``: ``export(user)`` returns its JSON-ready value for
        ``user``, ``schema`` (a DRF serializer or field) documents that value."""
        if section in RESERVED_KEYS or section in self._exporters:
            raise ImproperlyConfigured(
                f"The export section {section!r} is reserved or already registered."
            )
        exporter = Exporter(section=section, model=model, export=export, schema=schema)
        self._exporters[section] = exporter
        return exporter

    def __iter__(self) -> Iterator[Exporter]:
        return iter(tuple(self._exporters.values()))

    def __len__(self) -> int:
        return len(self._exporters)

    def covered_models(self) -> set[type[models.Model]]:
        return {exporter.model._meta.concrete_model for exporter in self}

    def document(self, user: User, *, now: datetime | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {"exported_at": iso_timestamp(now or timezone.now())}
        for exporter in self:
            document[exporter.section] = exporter.export(user)
        return document


exporters = ExportRegistry()
register_exporter = exporters.register


def user_export(*, user: User, now: datetime | None = None) -> dict[str, Any]:
    """Every datum held about ``user``, as one JSON-ready document."""
    return exporters.document(user, now=now)


# --- The accounts app's exporters --------------------------------------------------


class ExportProfileSerializer(UserProfileSerializer):
    """The user's account: the profile of `users/me/` and the account's state."""

    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    is_superuser = serializers.BooleanField()


def export_profile(user: User) -> dict[str, Any]:
    # From the database, not the request's cached snapshot: the export is the record.
    account = User.objects.annotate(**profile_annotations()).get(pk=user.pk)
    return {
        **user_profile(account),
        "is_active": account.is_active,
        "is_staff": account.is_staff,
        "is_superuser": account.is_superuser,
    }


class ExportEmailAddressSerializer(serializers.Serializer):
    email = serializers.EmailField()
    verified = serializers.BooleanField()
    primary = serializers.BooleanField()


def export_email_addresses(user: User) -> list[dict[str, Any]]:
    return list(
        EmailAddress.objects.filter(user_id=user.pk)
        .order_by("-primary", "email")
        .values("email", "verified", "primary")
    )


class ExportSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField(
        help_text="Why the session ended (`logout`, `password_changed`...); empty while "
        "it has not."
    )


SESSION_FIELDS = (
    "id",
    "created_at",
    "last_used_at",
    "expires_at",
    "ip",
    "user_agent",
    "revoked_at",
    "revoke_reason",
)


def export_sessions(user: User) -> list[dict[str, Any]]:
    """Every session still stored, revoked ones included (``purge_sessions`` deletes them
    some minutes after they end). ``refresh_jti`` is never selected."""
    sessions = AuthSession.objects.filter(user_id=user.pk).order_by("-created_at")
    return [
        {
            **session,
            "id": str(session["id"]),
            "created_at": iso_timestamp(session["created_at"]),
            "last_used_at": iso_timestamp(session["last_used_at"]),
            "expires_at": iso_timestamp(session["expires_at"]),
            "revoked_at": iso_timestamp(session["revoked_at"]),
        }
        for session in sessions.values(*SESSION_FIELDS)
    ]


class ExportSecurityEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField(help_text="The audit event kind, e.g. `login.failed`.")
    description = serializers.CharField()
    ip = serializers.IPAddressField(
        allow_null=True, help_text="Empty when someone else (staff) acted."
    )
    user_agent = serializers.CharField()
    created_at = serializers.DateTimeField()
    payload = serializers.DictField(help_text="The event's details, as recorded.")


def export_security_events(user: User) -> list[dict[str, Any]]:
    """Audit events about the user (target) or by them (actor), newest first."""
    events = AuditEvent.objects.filter(
        Q(target_id=user.pk) | Q(actor_id=user.pk)
    ).order_by("-created_at", "-id")
    return [
        {**activity_item(event, user=user), "payload": event.payload}
        for event in events
    ]


class ExportPasswordHistorySerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="How many previous passwords are remembered (to refuse repeats)."
    )
    set_at = serializers.ListField(
        child=serializers.DateTimeField(),
        help_text="When each was set, newest first. The hashes are never exported.",
    )


def export_password_history(user: User) -> dict[str, Any]:
    dates = PasswordHistory.objects.filter(user_id=user.pk).values_list(
        "created_at", flat=True
    )
    set_at = [iso_timestamp(date) for date in dates]
    return {"count": len(set_at), "set_at": set_at}


register_exporter(
    section="profile",
    model=User,
    export=export_profile,
    schema=ExportProfileSerializer(),
)
register_exporter(
    section="email_addresses",
    model=EmailAddress,
    export=export_email_addresses,
    schema=ExportEmailAddressSerializer(many=True),
)
register_exporter(
    section="sessions",
    model=AuthSession,
    export=export_sessions,
    schema=ExportSessionSerializer(many=True),
)
register_exporter(
    section="security_events",
    model=AuditEvent,
    export=export_security_events,
    schema=ExportSecurityEventSerializer(many=True),
)
register_exporter(
    section="password_history",
    model=PasswordHistory,
    export=export_password_history,
    schema=ExportPasswordHistorySerializer(),
)


# --- Two-factor devices (django-otp): never a secret, only that they exist ------------------


class ExportMfaDeviceSerializer(serializers.Serializer):
    name = serializers.CharField()
    confirmed = serializers.BooleanField()
    created_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


def _export_devices(
    model: type[models.Model],
) -> Callable[[User], list[dict[str, Any]]]:
    def export(user: User) -> list[dict[str, Any]]:
        rows = model.objects.filter(user=user).values(
            "name", "confirmed", "created_at", "last_used_at"
        )
        return [
            {
                **row,
                "created_at": iso_timestamp(row["created_at"]),
                "last_used_at": iso_timestamp(row["last_used_at"]),
            }
            for row in rows
        ]

    return export


class ExportRecoveryCodesSerializer(serializers.Serializer):
    remaining = serializers.IntegerField()


def export_recovery_codes(user: User) -> dict[str, int]:
    return {"remaining": RecoveryCode.objects.filter(device__user=user).count()}


register_exporter(
    section="authenticator_apps",
    model=TOTPAuthenticator,
    export=_export_devices(TOTPAuthenticator),
    schema=ExportMfaDeviceSerializer(many=True),
)
register_exporter(
    section="email_code_devices",
    model=EmailDevice,
    export=_export_devices(EmailDevice),
    schema=ExportMfaDeviceSerializer(many=True),
)
register_exporter(
    section="recovery_codes",
    model=RecoveryCodeSet,
    export=export_recovery_codes,
    schema=ExportRecoveryCodesSerializer(),
)


class ExportBanSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True)
    lifted_at = serializers.DateTimeField(allow_null=True)


def export_bans(user: User) -> list[dict[str, Any]]:
    # Who banned is a staff member's data, not the user's: left out.
    rows = Ban.objects.filter(user=user).values(
        "id", "reason", "created_at", "until", "lifted_at"
    )
    return [
        {
            "id": str(row["id"]),
            "reason": row["reason"],
            "created_at": iso_timestamp(row["created_at"]),
            "until": iso_timestamp(row["until"]),
            "lifted_at": iso_timestamp(row["lifted_at"]),
        }
        for row in rows
    ]


register_exporter(
    section="bans", model=Ban, export=export_bans, schema=ExportBanSerializer(many=True)
)


class ExportBlockSerializer(serializers.Serializer):
    blocked_user = serializers.UUIDField()
    created_at = serializers.DateTimeField()


def export_blocks(user: User) -> list[dict[str, Any]]:
    # Only the blocks the user made: who blocked them is the other person's choice.
    return [
        {
            "blocked_user": str(row["user_id"]),
            "created_at": iso_timestamp(row["created_at"]),
        }
        for row in ProfilePermission.objects.filter(
            content_object=user, permission__codename=BLOCKED_FROM_PROFILE
        ).values("user_id", "created_at")
    ]


register_exporter(
    section="blocks",
    model=ProfilePermission,
    export=export_blocks,
    schema=ExportBlockSerializer(many=True),
)


class ExportObjectPermissionSerializer(serializers.Serializer):
    permission = serializers.CharField(help_text="`app_label.codename`.")
    object_type = serializers.CharField(help_text="`app_label.model`.")
    object_id = serializers.CharField()


def export_object_permissions(user: User) -> list[dict[str, Any]]:
    # django-guardian's generic table: object permissions held on any other kind of object
    # (apps with a direct table of their own export it in their own section).
    return [
        {
            "permission": f"{row['permission__content_type__app_label']}."
            f"{row['permission__codename']}",
            "object_type": f"{row['content_type__app_label']}.{row['content_type__model']}",
            "object_id": row["object_pk"],
        }
        for row in UserObjectPermission.objects.filter(user=user)
        .order_by("pk")
        .values(
            "permission__content_type__app_label",
            "permission__codename",
            "content_type__app_label",
            "content_type__model",
            "object_pk",
        )
    ]


register_exporter(
    section="object_permissions",
    model=UserObjectPermission,
    export=export_object_permissions,
    schema=ExportObjectPermissionSerializer(many=True),
)
