from django.apps import AppConfig


class LimitsConfig(AppConfig):
    """Rate limits per endpoint group, quotas by role and key, automatic bans."""

    name = "limits"
    verbose_name = "Rate limits"

    def ready(self) -> None:
        from limits import policy

        policy.check_settings()
