from django.apps import AppConfig


class LimitsConfig(AppConfig):
    """Rate limits per endpoint group, quotas by role and key, automatic bans."""

    name = "limits"
    verbose_name = "Rate limits"

    def ready(self) -> None:
        from accounts.user_data import user_data_registry
        from limits import policy, user_data

        policy.check_settings()
        user_data.register(user_data_registry)
