from django.apps import AppConfig


class FlagsConfig(AppConfig):
    """Feature flags over django-waffle, evaluated per caller."""

    name = "flags"
    verbose_name = "Feature flags"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts.user_data import user_data_registry
        from flags import user_data

        user_data.register(user_data_registry)
        post_migrate.connect(_sync_endpoint_flags, sender=self)


def _sync_endpoint_flags(**kwargs: object) -> None:
    """Every API route gets its flag, on, after each ``migrate``."""
    from flags.services import endpoint_flags_sync

    endpoint_flags_sync()
