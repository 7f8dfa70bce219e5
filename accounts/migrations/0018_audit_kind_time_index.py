"""Issue 13: an index on the audit log's (kind, created_at), for the admin's list of one
kind over a period (which counts its rows) and the dashboard's links to it.

The audit log may hold tens of millions of rows. On PostgreSQL the index is built with
``CREATE INDEX CONCURRENTLY``, which neither blocks writes (every login writes an event)
nor runs in a transaction, hence ``atomic = False``; on SQLite (the embedded default,
small tables) it is a plain ``CREATE INDEX``.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """``AddIndex``, built concurrently on PostgreSQL (what
    ``django.contrib.postgres.operations.AddIndexConcurrently`` does there, without
    refusing the other databases)."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0017_ban_replacement"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="auditevent",
            index=models.Index(
                fields=["kind", "created_at"], name="accounts_audit_kind_time"
            ),
        ),
    ]
