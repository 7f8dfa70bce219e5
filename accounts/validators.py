"""Validators for profile fields; referenced by the model, so migrations store only their names."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

USERNAME_PATTERN = r"^[a-z0-9_]{3,32}$"
USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 32

USERNAME_RULE = "Use 3 to 32 characters: lowercase letters, digits and underscores."

validate_username = RegexValidator(
    USERNAME_PATTERN,
    message=USERNAME_RULE,
    code="invalid_username",
)


@cache
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            "%(value)s is not a time zone name (use an IANA name such as Europe/Paris).",
            code="invalid_timezone",
            params={"value": value},
        )


def validate_language(value: str) -> None:
    codes = [code for code, _name in settings.LANGUAGES]
    if value not in codes:
        raise ValidationError(
            "%(value)s is not an available language (choose from %(codes)s).",
            code="invalid_language",
            params={"value": value, "codes": ", ".join(codes)},
        )
