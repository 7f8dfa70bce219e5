from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    """API keys: a visible prefix plus a peppered HMAC, scoped, expiring, revocable."""

    name = "apikeys"
    verbose_name = "API keys"
