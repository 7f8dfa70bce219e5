"""The accounts app in the Django admin, one module per concept: ``users`` (the list, a
user's page, and the list's ``actions``), ``sessions``, ``audit``. Importing them registers
their ``ModelAdmin``s with the admin site."""

from accounts.admin import audit, sessions, users

__all__ = ["audit", "sessions", "users"]
