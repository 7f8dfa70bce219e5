"""Password policy in the style of NIST SP 800-63B: length, strength and no reuse.

The rules are Django password validators (``AUTH_PASSWORD_VALIDATORS``), so every place that
calls ``validate_password`` applies them: minimum length, this module's maximum length,
Django's common-password list, similarity to the user's own details, a zxcvbn strength
score and the user's password history. There are no composition rules ("one digit, one
symbol"): NIST advises against them.

Error codes, one per rule: ``password_too_short``, ``password_too_long``,
``password_too_common``, ``password_too_similar``, ``password_too_weak``,
``password_reused``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import ngettext
from zxcvbn import feedback, matching, scoring, time_estimates

from accounts.models import PasswordHistory, User

# zxcvbn's matchers grow with the square of the length, times the number of l33t
# substitution tables a password's symbols allow (up to 736 for a password made of them).
# Unbounded, one 128-character password took over 4 s of CPU: a denial of service through
# any form that validates a password. With these two bounds the worst inputs we could
# build take about 30 ms (100 ms with a 100-character window, so 64 it is). The first 64
# characters decide the score on their own: a password whose first 64 characters are easy
# to guess is refused, which is the right answer for a password that long.
STRENGTH_WINDOW = 64
MAX_L33T_SUBSTITUTION_TABLES = 4


# --- Strength estimation -----------------------------------------------------------------


@dataclass(frozen=True)
class PasswordStrength:
    """zxcvbn's verdict: a score from 0 (trivial) to 4 (very hard to guess), and advice."""

    score: int
    warning: str
    suggestions: list[str]


def password_strength(
    password: str, *, user_inputs: Iterable[str] = ()
) -> PasswordStrength:
    """Estimate how hard ``password`` is to guess, penalising words from ``user_inputs``.

    This is ``zxcvbn.zxcvbn()`` rebuilt from its parts for two reasons: its cost is bounded
    (see ``STRENGTH_WINDOW``), and the user's words go into a dictionary of this call's own,
    where ``zxcvbn()`` writes them into a module-level dictionary that concurrent threads
    share. Scores match ``zxcvbn()``'s for passwords within the bounds.
    """
    window = password[:STRENGTH_WINDOW]
    dictionaries = {
        **matching.RANKED_DICTIONARIES,
        "user_inputs": matching.build_ranked_dict(
            [value.lower() for value in user_inputs if value]
        ),
    }
    result = scoring.most_guessable_match_sequence(
        window, _all_matches(window, dictionaries)
    )
    score = time_estimates.guesses_to_score(result["guesses"])
    advice = feedback.get_feedback(score, result["sequence"])
    return PasswordStrength(
        score=score,
        warning=advice["warning"],
        suggestions=list(advice["suggestions"]),
    )


def _all_matches(password: str, dictionaries: dict[str, dict[str, int]]) -> list[dict]:
    """``zxcvbn.matching.omnimatch`` with bounded l33t and repeat matching."""
    matches: list[dict] = []
    for matcher in (
        matching.dictionary_match,
        matching.reverse_dictionary_match,
        matching.spatial_match,
        matching.sequence_match,
        matching.regex_match,
        matching.date_match,
    ):
        matches.extend(matcher(password, _ranked_dictionaries=dictionaries))
    matches.extend(
        matching.l33t_match(
            password,
            _ranked_dictionaries=dictionaries,
            _l33t_table=_bounded_l33t_table(password),
        )
    )
    matches.extend(_repeat_matches(password, dictionaries))
    return sorted(matches, key=lambda match: (match["i"], match["j"]))


def _bounded_l33t_table(password: str) -> dict[str, list[str]]:
    """The substitutions that ``password``'s symbols allow, at most a few tables' worth.

    Each letter's most common substitute is kept first (``4`` and ``@`` for ``a``), then
    the others while the number of tables to try stays within the bound. A password with
    that many different symbols is not a dictionary word in disguise anyway.
    """
    relevant = matching.relevant_l33t_subtable(password, matching.L33T_TABLE)
    table: dict[str, list[str]] = {}
    most_substitutes = max((len(subs) for subs in relevant.values()), default=0)
    for rank in range(most_substitutes):
        for letter, substitutes in relevant.items():
            if rank >= len(substitutes):
                continue
            candidate = {**table, letter: [*table.get(letter, []), substitutes[rank]]}
            tables = matching.enumerate_l33t_subs(candidate)
            if len(tables) <= MAX_L33T_SUBSTITUTION_TABLES:
                table = candidate
    return table


_GREEDY_REPEAT = re.compile(r"(.+)\1+")
_LAZY_REPEAT = re.compile(r"(.+?)\1+")
_LAZY_ANCHORED_REPEAT = re.compile(r"^(.+?)\1+$")


def _repeat_matches(
    password: str, dictionaries: dict[str, dict[str, int]]
) -> list[dict]:
    """``zxcvbn.matching.repeat_match`` (MIT licence), recursing into the bounded matchers.

    zxcvbn's own version scores the repeated unit with its unbounded ``omnimatch``.
    """
    matches = []
    last_index = 0
    while last_index < len(password):
        greedy = _GREEDY_REPEAT.search(password, pos=last_index)
        lazy = _LAZY_REPEAT.search(password, pos=last_index)
        if not greedy or not lazy:
            break
        if len(greedy.group(0)) > len(lazy.group(0)):
            # "aabaab": the greedy match is the whole; its unit may itself repeat.
            match = greedy
            anchored = _LAZY_ANCHORED_REPEAT.search(match.group(0))
            base_token = anchored.group(1) if anchored else match.group(1)
        else:
            match = lazy
            base_token = match.group(1)
        start, end = match.span()
        base = scoring.most_guessable_match_sequence(
            base_token, _all_matches(base_token, dictionaries)
        )
        matches.append(
            {
                "pattern": "repeat",
                "i": start,
                "j": end - 1,
                "token": match.group(0),
                "base_token": base_token,
                "base_guesses": base["guesses"],
                "base_matches": base["sequence"],
                "repeat_count": len(match.group(0)) / len(base_token),
            }
        )
        last_index = end
    return matches


def user_inputs_for(user: Any) -> list[str]:
    """The words a guesser would try first for this user: their names and address."""
    if user is None:
        return [settings.SITE_NAME]
    email = getattr(user, "email", "") or ""
    values = [
        getattr(user, "username", ""),
        email,
        email.partition("@")[0],
        getattr(user, "display_name", ""),
        getattr(user, "first_name", ""),
        getattr(user, "last_name", ""),
        settings.SITE_NAME,
    ]
    return [value for value in values if value]


# --- Validators --------------------------------------------------------------------------


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

    Recorded by ``password_history_record``. Each comparison verifies a hash, which takes
    tens of milliseconds with Argon2: the history stays short on purpose.
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


# --- Services and reads ------------------------------------------------------------------


@transaction.atomic
def password_history_record(*, user: User, encoded_password: str) -> None:
    """Remember a password's hash after it was set; keep the newest ``PASSWORD_HISTORY_SIZE``.

    Call it with the new hash (``user.password`` after ``set_password``), in the same
    transaction that saves the user. With a history size of 0 nothing is kept.
    """
    size = settings.PASSWORD_HISTORY_SIZE
    if size > 0:
        PasswordHistory.objects.create(user=user, password=encoded_password)
    newest = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-id")
    PasswordHistory.objects.filter(user=user).exclude(
        id__in=newest.values("id")[:size]
    ).delete()
