from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    """API keys: a visible prefix plus a peppered HMAC, scoped, expiring, revocable."""

    name = "apikeys"
    verbose_name = "API keys"

    def ready(self) -> None:
        from accounts.user_data import user_data_registry
        from apikeys import user_data

        user_data.register(user_data_registry)
