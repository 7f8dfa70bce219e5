"""The admin as staff read it all day: an "Accounts", a "Files" and a "Feature flags"
section, times in their zone.

Django lists models under the app that defines them, which splits what staff think of as
one thing (our ``accounts``, allauth's ``account``, ``auth``'s groups) and shows
technical names. :class:`AccountsSection` gathers them into one section, in the order
staff use them, under readable names; the pages of the gathered apps (``/admin/account/``,
``/admin/auth/``, ``/admin/apikeys/``) show the same section. Feature flags and waffle's
switches and samples are gathered the same way into "Feature flags".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone


@dataclass(frozen=True)
class Section:
    """One section of the index: the apps it gathers (by label: ``accounts`` imports no
    other app), the label its page answers under, and ``readable``: (app label, model
    name) -> the name staff read, in the order they are listed. Models of a gathered
    app not named there follow, in Django's order, under their own names."""

    label: str
    name: str
    apps: frozenset[str]
    readable: dict[tuple[str, str], str]

    def order(self, model: dict[str, Any]) -> int:
        keys = list(self.readable)
        key = _key(model)
        return keys.index(key) if key in self.readable else len(keys)


SECTIONS = (
    Section(
        label="accounts",
        name="Accounts",
        apps=frozenset({"accounts", "account", "auth", "apikeys", "limits"}),
        readable={
            ("accounts", "user"): "Users",
            ("accounts", "ban"): "Bans",
            ("limits", "addressban"): "Address bans",
            ("accounts", "authsession"): "Sessions",
            ("apikeys", "apikey"): "API keys",
            ("accounts", "auditevent"): "Security events",
            ("account", "emailaddress"): "Email addresses",
            ("accounts", "totpauthenticator"): "Authenticator apps",
            ("accounts", "emailcodedevice"): "Emailed sign-in codes",
            ("accounts", "recoverycodeset"): "Recovery codes",
            ("auth", "group"): "Roles",
        },
    ),
    # Issue 16: users' files (and avatars), which staff look at and delete.
    Section(
        label="files",
        name="Files",
        apps=frozenset({"files"}),
        readable={
            ("files", "storedfile"): "Files",
            ("files", "avatar"): "Avatars",
        },
    ),
    # Issue 15: the flags staff toggle, then waffle's switches and samples (for ops).
    Section(
        label="flags",
        name="Feature flags",
        apps=frozenset({"flags", "waffle"}),
        readable={
            ("flags", "flag"): "Feature flags",
            ("waffle", "switch"): "Switches",
            ("waffle", "sample"): "Samples",
        },
    ),
)


def section_of(app_label: str | None) -> Section | None:
    return next((each for each in SECTIONS if app_label in each.apps), None)


def gathered(app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``app_list`` (Django's ``get_app_list``) with each section's apps gathered into
    one entry, renamed and ordered, the sections first and in order; the other apps
    after them. A section none of whose apps the staff member may see is left out."""
    found: dict[str, list[dict[str, Any]]] = {}
    others = []
    for app in app_list:
        section = section_of(app["app_label"])
        if section is None:
            others.append(app)
        else:
            found.setdefault(section.label, []).append(app)
    result = []
    for section in SECTIONS:
        apps = found.get(section.label)
        if not apps:
            continue
        base = next((a for a in apps if a["app_label"] == section.label), apps[0])
        models = [model for app in apps for model in app["models"]]
        for model in models:
            model["name"] = section.readable.get(_key(model), model["name"])
        models.sort(key=section.order)
        result.append(
            {**base, "name": section.name, "app_label": section.label, "models": models}
        )
    return [*result, *others]


def _key(model: dict[str, Any]) -> tuple[str, str]:
    options = model["model"]._meta
    return (options.app_label, options.model_name)


class AccountsSection:
    """Mixed into the admin site before ``AdminSite``: the sections of :data:`SECTIONS`
    (the name is the first one's: "Accounts" came first)."""

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        section = section_of(app_label)
        if section is not None:
            # One gathered app's page shows its whole section.
            return [
                app
                for app in gathered(super().get_app_list(request))  # type: ignore[misc]
                if app["app_label"] == section.label
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
