"""``django.contrib.admin`` with Gatehouse's admin site (second factor, login limits).

The site itself lives in ``accounts.admin_site`` (its login uses the accounts app's login
limits); it is named here as a dotted path, as ``INSTALLED_APPS`` names apps, because
``config`` imports no app, and because this module is imported before any model exists.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class GatehouseAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.GatehouseAdminSite"
