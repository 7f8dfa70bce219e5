"""The accounts app in the Django admin, one module per concept: ``users`` (the list, a
user's page, and the list's ``actions``), ``bans``, ``sessions``, ``audit``, and, to read
only, ``addresses`` (allauth's email addresses), ``factors`` (second factors) and
``roles`` (groups). Importing them registers their ``ModelAdmin``s with the admin site;
``accounts.admin_layout`` lays them out as one "Accounts" section."""

from accounts.admin import addresses, audit, bans, factors, roles, sessions, users

__all__ = ["addresses", "audit", "bans", "factors", "roles", "sessions", "users"]
