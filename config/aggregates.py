"""Database functions Django 5.2 lacks across both supported backends."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, CharField


class GroupConcat(Aggregate):
    """Comma-joined values of a column: ``GROUP_CONCAT`` on SQLite, ``STRING_AGG`` on
    PostgreSQL. Lets one query return a user's group names beside the user."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> Any:
        return super().as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(expressions)s::text, ',')",
            **extra_context,
        )
