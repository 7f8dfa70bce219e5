"""How hard a password is to guess: zxcvbn's estimate, with its cost bounded.

Used by ``accounts.passwords.StrengthValidator``; kept apart from the validators because
it is zxcvbn's machinery, not a rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from zxcvbn import feedback, matching, scoring, time_estimates

# zxcvbn's matchers grow with the square of the length, times the number of l33t
# substitution tables a password's symbols allow (up to 736 for a password made of them).
# Unbounded, one 128-character password took over 4 s of CPU: a denial of service through
# any form that validates a password. With these two bounds the worst inputs we could
# build take about 30 ms (100 ms with a 100-character window, so 64 it is). The first 64
# characters decide the score on their own: a password whose first 64 characters are easy
# to guess is refused, which is the right answer for a password that long.
STRENGTH_WINDOW = 64
MAX_L33T_SUBSTITUTION_TABLES = 4


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
