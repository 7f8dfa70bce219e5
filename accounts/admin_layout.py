"""The admin as staff read it all day: one "Accounts" section, times in their zone.

Django lists models under the app that defines them, which splits what staff think of as
one thing (our ``accounts``, allauth's ``account``, ``auth``'s groups) and shows
technical names. :class:`AccountsSection` gathers them into one section, in the order
staff use them, under readable names; the pages of the gathered apps (``/admin/account/``,
``/admin/auth/``, ``/admin/apikeys/``) show the same section.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

SECTION_LABEL = "accounts"
SECTION_NAME = "Accounts"

# The apps gathered into the section (by label: ``accounts`` imports no other app).
GATHERED = frozenset({"accounts", "account", "auth", "apikeys"})

# (app label, model name) -> the name staff read, in the order they are listed. Models
# not named here follow, in Django's order, under their own names.
READABLE = {
    ("accounts", "user"): "Users",
    ("accounts", "ban"): "Bans",
    ("accounts", "authsession"): "Sessions",
    ("apikeys", "apikey"): "API keys",
    ("accounts", "auditevent"): "Security events",
    ("account", "emailaddress"): "Email addresses",
    ("accounts", "totpauthenticator"): "Authenticator apps",
    ("accounts", "emailcodedevice"): "Emailed sign-in codes",
    ("accounts", "recoverycodeset"): "Recovery codes",
    ("auth", "group"): "Roles",
}
ORDER = {key: position for position, key in enumerate(READABLE)}


def gathered(app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``app_list`` (Django's ``get_app_list``) with the gathered apps' models in one
    "Accounts" section, first, renamed and ordered; the other apps after it."""
    models: list[dict[str, Any]] = []
    section: dict[str, Any] | None = None
    others = []
    for app in app_list:
        if app["app_label"] not in GATHERED:
            others.append(app)
            continue
        models += app["models"]
        if app["app_label"] == SECTION_LABEL or section is None:
            section = app
    if section is None:
        return others
    for model in models:
        model["name"] = READABLE.get(_key(model), model["name"])
    models.sort(key=lambda model: ORDER.get(_key(model), len(ORDER)))
    section = {
        **section,
        "name": SECTION_NAME,
        "app_label": SECTION_LABEL,
        "models": models,
    }
    return [section, *others]


def _key(model: dict[str, Any]) -> tuple[str, str]:
    options = model["model"]._meta
    return (options.app_label, options.model_name)


class AccountsSection:
    """Mixed into the admin site before ``AdminSite``."""

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        if app_label in GATHERED:
            # One gathered app's page shows the whole section.
            return [
                app
                for app in gathered(super().get_app_list(request))  # type: ignore[misc]
                if app["app_label"] == SECTION_LABEL
            ]
        return gathered(super().get_app_list(request, app_label))  # type: ignore[misc]


class StaffTimezone:
    """Mixed into the admin site before ``AdminSite``: the header says which time zone
    the pages' times are in (``accounts.timezones.StaffTimezoneMiddleware`` puts the
    staff member's in force)."""

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context: dict[str, Any] = super().each_context(request)  # type: ignore[misc]
        context["staff_timezone"] = timezone.get_current_timezone_name()
        return context
