from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.constants import AuditKind
from accounts.models import User
from accounts.services.audit import ClientInfo, audit_record

PROFILE_FIELDS = frozenset(User.PROFILE_FIELDS)


@transaction.atomic
def user_profile_update(
    *, user_id: uuid.UUID, changes: dict[str, Any], client: ClientInfo
) -> User:
    """Change profile fields (and only those) after the model's own validation."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise ValidationError(
            {field: ["This field cannot be changed here."] for field in sorted(unknown)}
        )
    user = User.objects.select_for_update().get(pk=user_id)
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(
        exclude=[f.name for f in User._meta.fields if f.name not in changes]
    )
    if changes:
        user.save(update_fields=[*changes])
        audit_record(
            kind=AuditKind.PROFILE_UPDATED,
            client=client,
            actor=user,
            target=user,
            payload={"fields": sorted(changes)},
        )
    return user
