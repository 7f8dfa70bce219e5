from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services.moderation import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and give each the permissions accounts/roles.py declares."

    def handle(self, *args: Any, **options: Any) -> None:
        roles_sync()
        self.stdout.write("Roles synchronised.")
