from django.apps import AppConfig


class FlagsConfig(AppConfig):
    """Feature flags over django-waffle, evaluated per caller."""

    name = "flags"
    verbose_name = "feature flags"
