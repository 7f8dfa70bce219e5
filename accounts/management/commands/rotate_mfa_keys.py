from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.crypto import reencrypt_secret
from accounts.models import TOTPAuthenticator


class Command(BaseCommand):
    help = (
        "Re-encrypt every TOTP secret under the first of MFA_ENCRYPTION_KEYS. Put the new "
        "key first, run this, then remove the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        with transaction.atomic():
            for device in TOTPAuthenticator.objects.select_for_update().only(
                "encrypted_key"
            ):
                device.encrypted_key = reencrypt_secret(device.encrypted_key)
                device.save(update_fields=["encrypted_key"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} authenticator secret(s).")
