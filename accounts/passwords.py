"""Password policy in the style of NIST SP 800-63B: length, strength and no reuse.

The rules are Django password validators (``AUTH_PASSWORD_VALIDATORS``), so every place that
calls ``validate_password`` applies them: minimum length, this module's maximum length,
Django's common-password list, similarity to the user's own details, a zxcvbn strength
score and the user's password history. There are no composition rules ("one digit, one
symbol"): NIST advises against them.

Error codes, one per rule: ``password_too_short``, ``password_too_long``,
``password_too_common``, ``password_too_similar``, ``password_too_weak``,
``password_reused``.

This module holds the validators only: strength estimation is
``accounts.password_strength``, recording the history is the service
``accounts.services.password.password_history_record``, and the policy the frontend reads
is ``config.frontend.password_policy``.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

from accounts.models import PasswordHistory, User
from accounts.password_strength import password_strength, user_inputs_for


class MaximumLengthValidator:
    """Refuses passwords longer than ``max_length`` characters.

    NIST asks for at least 64; the limit keeps hashing and strength estimation cheap.
    """

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: User | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most "
                    "%(max_length)d character.",
                    "This password is too long. It must contain at most "
                    "%(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must contain at most %(max_length)d character.",
            "Your password must contain at most %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}


class StrengthValidator:
    """Refuses passwords that zxcvbn scores below ``min_score`` (0 to 4).

    zxcvbn estimates how many guesses a cracker needs, knowing dictionaries, names, keyboard
    patterns, dates, repeats, l33t spelling and the user's own details. Score 3 means about
    10^8 guesses or more.
    """

    def __init__(self, min_score: int = 3) -> None:
        self.min_score = min_score

    def validate(self, password: str, user: User | None = None) -> None:
        strength = password_strength(password, user_inputs=user_inputs_for(user))
        if strength.score >= self.min_score:
            return
        reasons = [strength.warning, *strength.suggestions]
        explanation = " ".join(
            reason if reason.endswith(".") else f"{reason}."
            for reason in reasons
            if reason
        )
        message = "This password is too easy to guess."
        if explanation:
            message = f"{message} {explanation}"
        # No params: zxcvbn's advice is plain text and must not go through %-formatting.
        raise ValidationError(message, code="password_too_weak")

    def get_help_text(self) -> str:
        return (
            "Your password must be hard to guess: a few uncommon words, or a long random "
            "password, rather than names, dates, keyboard patterns or repeats."
        )


class PasswordHistoryValidator:
    """Refuses the user's current password and their last ``history_size`` ones.

    Recorded by ``accounts.services.password.password_history_record``. Each comparison
    verifies a hash, which takes tens of milliseconds with Argon2: the history stays short
    on purpose.
    """

    def __init__(self, history_size: int = 5) -> None:
        self.history_size = history_size

    def validate(self, password: str, user: User | None = None) -> None:
        if user is None:
            return
        hashes = [user.password] if user.password else []
        # A user being created has a primary key already (a UUID default) but no rows.
        if user.pk is not None and not user._state.adding and self.history_size > 0:
            hashes += PasswordHistory.objects.filter(user=user).values_list(
                "password", flat=True
            )[: self.history_size]
        # The newest history row is usually the current password's hash: check it once.
        for encoded in dict.fromkeys(hashes):
            if check_password(password, encoded):
                raise ValidationError(
                    "You have used this password before. Choose a new one.",
                    code="password_reused",
                )

    def get_help_text(self) -> str:
        if self.history_size <= 0:
            return "Your password must differ from your current password."
        return ngettext(
            "Your password must differ from your current password and your previous "
            "one.",
            "Your password must differ from your current password and your last "
            "%(history_size)d.",
            self.history_size,
        ) % {"history_size": self.history_size}
