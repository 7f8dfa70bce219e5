from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles, sessions, MFA, bans and the audit log: the base every other app builds on."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connects the receivers)
