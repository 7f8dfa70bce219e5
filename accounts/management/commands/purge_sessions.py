from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services.sessions import sessions_purge


class Command(BaseCommand):
    help = "Delete expired sessions and sessions revoked longer ago than an access token lives."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = sessions_purge()
        self.stdout.write(f"Deleted {deleted} dead session(s).")
