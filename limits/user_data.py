"""The ``address_bans`` section of the export (the bans a staff member placed or
lifted), and its erasure."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from rest_framework import serializers

from accounts.models import User
from accounts.user_data.registry import UserDataRegistry, kept
from limits.models import AddressBan


class ExportAddressBanSerializer(serializers.Serializer):
    address = serializers.IPAddressField(
        help_text="The address banned (an IPv6 client's /64 by its first address)."
    )
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    until = serializers.DateTimeField()
    placed = serializers.BooleanField(help_text="This account placed the ban.")
    lifted = serializers.BooleanField(help_text="This account lifted the ban.")
    lifted_at = serializers.DateTimeField(allow_null=True)


def export_address_bans(user: User) -> list[dict[str, Any]]:
    """The address bans the user placed or lifted, as staff."""
    bans = AddressBan.objects.filter(Q(created_by=user) | Q(lifted_by=user))
    return [
        {
            "address": row["address"],
            "reason": row["reason"],
            "created_at": row["created_at"],
            "until": row["until"],
            "placed": row["created_by"] == user.pk,
            "lifted": row["lifted_by"] == user.pk,
            "lifted_at": row["lifted_at"],
        }
        for row in bans.order_by("-created_at").values(
            "address",
            "reason",
            "created_at",
            "until",
            "created_by",
            "lifted_by",
            "lifted_at",
        )
    ]


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=AddressBan,
        section="address_bans",
        export=export_address_bans,
        schema=ExportAddressBanSerializer(many=True),
        erase=kept(
            "An address ban's record says which staff account placed or lifted it; "
            "the account row is anonymised, so the record names no person."
        ),
    )
