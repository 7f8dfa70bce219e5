"""``django.contrib.admin`` with Gatehouse's admin site (second factor, login limits).

Kept apart from ``config.admin_site``: ``INSTALLED_APPS`` imports this module before any
model exists, and the site's module uses models.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class GatehouseAdminConfig(AdminConfig):
    default_site = "config.admin_site.GatehouseAdminSite"
