from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.crypto import UndecryptableSecret, reencrypt_secret
from accounts.models import TOTPAuthenticator


class Command(BaseCommand):
    help = (
        "Re-encrypt every TOTP secret under the newest key: the first of "
        "MFA_ENCRYPTION_KEYS, or (without them) the one derived from SECRET_KEY. Put the "
        "new key first (or the old SECRET_KEY in SECRET_KEY_FALLBACKS), run this, then "
        "remove the old key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        unreadable: list[int] = []
        with transaction.atomic():
            for device in TOTPAuthenticator.objects.select_for_update().only(
                "encrypted_key"
            ):
                try:
                    device.encrypted_key = reencrypt_secret(device.encrypted_key)
                except UndecryptableSecret:
                    unreadable.append(device.pk)
                    continue
                device.save(update_fields=["encrypted_key"])
                rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} authenticator secret(s).")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} authenticator secret(s) cannot be decrypted with any "
                f"configured key (authenticator apps {', '.join(map(str, unreadable))}): "
                "add the key that encrypted them to MFA_ENCRYPTION_KEYS or "
                "SECRET_KEY_FALLBACKS and run this again."
            )
