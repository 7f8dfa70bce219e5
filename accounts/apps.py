from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles, sessions, MFA, bans and the audit log: the base every other app builds on."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import signals  # noqa: F401  (connects the receivers)

        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs: object) -> None:
    from accounts.services.moderation import roles_sync

    roles_sync()
