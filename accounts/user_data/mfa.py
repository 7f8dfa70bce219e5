"""Two-factor devices (django-otp): never a secret, only that they exist."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django_otp.models import Device
from django_otp.plugins.otp_email.models import EmailDevice
from rest_framework import serializers

from accounts.models import RecoveryCode, RecoveryCodeSet, TOTPAuthenticator, User
from accounts.user_data.registry import UserDataRegistry


class ExportMfaDeviceSerializer(serializers.Serializer):
    name = serializers.CharField()
    confirmed = serializers.BooleanField()
    created_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


def _export_devices(
    model: type[TOTPAuthenticator | EmailDevice],
) -> Callable[[User], list[Mapping[str, Any]]]:
    def export(user: User) -> list[Mapping[str, Any]]:
        return list(
            model.objects.filter(user=user).values(
                "name", "confirmed", "created_at", "last_used_at"
            )
        )

    return export


def _erase_devices(model: type[Device]) -> Callable[[User], None]:
    def erase(user: User) -> None:
        model.objects.filter(user=user).delete()

    return erase


class ExportRecoveryCodesSerializer(serializers.Serializer):
    remaining = serializers.IntegerField()


def export_recovery_codes(user: User) -> dict[str, int]:
    return {"remaining": RecoveryCode.objects.filter(device__user=user).count()}


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=TOTPAuthenticator,
        section="authenticator_apps",
        export=_export_devices(TOTPAuthenticator),
        schema=ExportMfaDeviceSerializer(many=True),
        erase=_erase_devices(TOTPAuthenticator),
    )
    registry.register(
        model=EmailDevice,
        section="email_code_devices",
        export=_export_devices(EmailDevice),
        schema=ExportMfaDeviceSerializer(many=True),
        erase=_erase_devices(EmailDevice),
    )
    registry.register(
        model=RecoveryCodeSet,
        section="recovery_codes",
        export=export_recovery_codes,
        schema=ExportRecoveryCodesSerializer(),
        erase=_erase_devices(RecoveryCodeSet),  # its codes go with it (cascade)
    )
