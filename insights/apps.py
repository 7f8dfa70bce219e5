from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The community at a glance: daily counts derived from the accounts app's tables,
    refreshed by the worker, drawn on the admin's front page."""

    name = "insights"
    verbose_name = "Insights"
