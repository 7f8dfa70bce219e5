"""The admin's change log (``django.contrib.admin``'s ``LogEntry``) about the user's records.

A log entry names its object by content type and id, and keeps the object's ``str()``
(``object_repr``: a username, an email address) and what changed (``change_message``).
The entries about the account, or about a row that belongs to it, are the user's data:
exported, and erased by blanking those two texts. The rows stay, as the audit log's do:
when, which kind of record, what kind of change and which staff member acted remain.

Entries *made* by the user (a staff member) describe other people's records; they are
neither exported nor erased, and point at the anonymised account once it is deleted.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import models
from django.db.models import Q, Subquery, Value
from django.db.models.functions import Cast, Replace
from rest_framework import serializers

from accounts.models import User
from accounts.user_data.registry import UserDataRegistry

ACTIONS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


def _owning_keys() -> list[tuple[type[models.Model], str]]:
    """Each model's foreign key or one-to-one to the user that deletes its rows with the
    account (``CASCADE``): those rows belong to the user, whatever app they are in."""
    return [
        (model, field.name)
        for model in apps.get_models()
        if model is not LogEntry  # its key is the staff member who acted
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey)  # one-to-ones too
        and field.related_model is User
        and field.remote_field.on_delete is models.CASCADE
    ]


def _without_dashes(expression: Any) -> Replace:
    """An id as text without dashes: the log stores ``str(pk)`` (a dashed UUID), and a
    UUID cast to text is dashed on PostgreSQL but 32 hex digits on SQLite."""
    return Replace(
        Cast(expression, models.TextField()),
        Value("-"),
        Value(""),
        output_field=models.TextField(),
    )


def _entries_about(user: User) -> models.QuerySet[LogEntry]:
    """The log's entries about the account or a row that belongs to it, in one query:
    the rows' ids are subqueries, so the export costs one query like any section."""
    about = Q(
        content_type__app_label=User._meta.app_label,
        content_type__model=User._meta.model_name,
        object_id=str(user.pk),
    )
    for model, name in _owning_keys():
        ids = model._default_manager.filter(**{name: user}).values(
            key=_without_dashes("pk")
        )
        about |= Q(
            content_type__app_label=model._meta.app_label,
            content_type__model=model._meta.model_name,
            object_key__in=Subquery(ids),
        )
    return LogEntry.objects.alias(object_key=_without_dashes("object_id")).filter(about)


class ExportAdminChangeSerializer(serializers.Serializer):
    action_time = serializers.DateTimeField()
    action = serializers.ChoiceField(choices=sorted(ACTIONS.values()))
    object_type = serializers.CharField(help_text="`app_label.model`.")
    change_message = serializers.CharField(
        help_text="What changed, as the admin recorded it (empty once erased)."
    )


def export_admin_changes(user: User) -> list[dict[str, Any]]:
    """Changes made through the admin to the account or its rows, newest first. Who
    made them is a staff member's data: left out."""
    entries = _entries_about(user).order_by("-action_time", "-pk")
    return [
        {
            "action_time": row["action_time"],
            "action": ACTIONS[row["action_flag"]],
            "object_type": f"{row['content_type__app_label']}."
            f"{row['content_type__model']}",
            # The admin's own rendering of its structured (JSON) message.
            "change_message": LogEntry(
                change_message=row["change_message"]
            ).get_change_message(),
        }
        for row in entries.values(
            "action_time",
            "action_flag",
            "content_type__app_label",
            "content_type__model",
            "change_message",
        )
    ]


def erase_admin_changes(user: User) -> None:
    """Blank what the entries say of the records; it runs before any other erasure,
    while the rows that belong to the user still exist to be found."""
    _entries_about(user).update(object_repr="", change_message="")


def register(registry: UserDataRegistry) -> None:
    registry.register(
        model=LogEntry,
        section="admin_changes",
        export=export_admin_changes,
        schema=ExportAdminChangeSerializer(many=True),
        erase=erase_admin_changes,
        erase_first=True,
    )
