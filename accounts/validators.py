"""Validators for profile fields; referenced by the model, so migrations store only their names."""

from __future__ import annotations

import zoneinfo
from functools import cache

import phonenumbers
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


def normalize_phone(value: str) -> str:
    """A phone number in E.164 (``+33612345678``), or ``""`` for no number.

    Numbers without a ``+`` prefix are read in ``PHONE_DEFAULT_REGION``, if one is set.
    """
    value = value.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "Enter a valid phone number in international form, such as +33 6 12 34 56 78.",
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_display_name(value: str, *, username: str) -> None:
    """With ``DISPLAY_NAME_FREE`` off, a display name is the username with underscores as
    spaces, in any capitalisation (``ada_lovelace`` -> ``Ada Lovelace``)."""
    if not value.strip():
        raise ValidationError("A display name cannot be empty.", code="blank")
    if any(not character.isprintable() for character in value):
        raise ValidationError(
            "A display name cannot contain control characters.",
            code="invalid_display_name",
        )
    if not settings.DISPLAY_NAME_FREE and value.replace(" ", "_").lower() != username:
        raise ValidationError(
            "The display name must be your username, with spaces for underscores and any "
            "capitalisation.",
            code="invalid_display_name",
        )
