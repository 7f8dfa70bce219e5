from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles, sessions, MFA, bans and the audit log: the base every other app builds on."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import signals  # noqa: F401  (connects the receivers)

        # After the last app's permissions exist (each app's are created on its own
        # post_migrate), since roles hold other apps' permissions too ("flags.view_flag").
        post_migrate.connect(_sync_roles)


def _sync_roles(*, app_config: AppConfig, **kwargs: object) -> None:
    from django.apps import apps

    from accounts.services.moderation import roles_sync

    last = [each for each in apps.get_app_configs() if each.models_module][-1]
    if app_config.label == last.label:
        roles_sync()
