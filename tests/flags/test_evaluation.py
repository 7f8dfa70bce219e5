"""Whether a flag is on for a caller (``flags.evaluation``): stable percentages (across
runs and processes, growing without losing anyone), role and user rules and their
combinations, ``everyone`` over everything, anonymous callers never in a share, and
waffle's own ``flag_is_active`` agreeing."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import waffle
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from flags.evaluation import Rule, flag_is_on, flags_for, share_of
from tests.flags.helpers import make_flag, set_rules
from tests.helpers import account
from tests.processes import process_environment, run_python

# 10,000 fixed user ids: the same population in every run.
NAMESPACE = uuid.UUID("6f1c2a8e-1111-4c6b-9a57-0d3b8f2e4c10")
USER_IDS = [str(uuid.uuid5(NAMESPACE, str(number))) for number in range(10_000)]


def caller(user_id: str, roles: tuple[str, ...] = ()) -> Any:
    """A signed-in request's user as the evaluation sees it (``SessionUser``)."""
    return SimpleNamespace(pk=user_id, is_authenticated=True, roles=roles)


def share_rule(percent: float) -> Rule:
    return Rule(None, share_of(percent), frozenset(), frozenset())


def chosen(percent: float, name: str = "rollout") -> set[str]:
    rule = share_rule(percent)
    return {user_id for user_id in USER_IDS if rule.is_on_for(name, caller(user_id))}


# --- Percentages -------------------------------------------------------------------------


@pytest.mark.parametrize("percent", [1, 10, 30, 50, 90])
def test_a_share_is_within_two_points_of_the_percent(percent: float) -> None:
    share = len(chosen(percent)) / len(USER_IDS) * 100

    assert abs(share - percent) <= 2


def test_zero_and_hundred_percent() -> None:
    assert chosen(0) == set()
    assert chosen(100) == set(USER_IDS)


def test_the_same_users_every_time() -> None:
    assert chosen(30) == chosen(30)


def test_raising_30_to_40_keeps_the_first_30() -> None:
    first, raised = chosen(30), chosen(40)

    assert first < raised
    assert abs(len(raised - first) / len(USER_IDS) * 100 - 10) <= 2


def test_each_flag_picks_its_own_users() -> None:
    assert chosen(30, "one") != chosen(30, "another")


ANSWERS_IN_ANOTHER_PROCESS = """
import json, sys
import django
django.setup()
from types import SimpleNamespace
from flags.evaluation import Rule, share_of
ids = json.load(open(sys.argv[1]))
rule = Rule(None, share_of(30), frozenset(), frozenset())
print(json.dumps(sorted(
    i for i in ids
    if rule.is_on_for("rollout", SimpleNamespace(pk=i, is_authenticated=True, roles=()))
)))
"""


@pytest.mark.slow
def test_another_process_chooses_the_same_users(tmp_path) -> None:
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(USER_IDS))

    # A different hash seed: nothing may depend on Python's salted str hashes.
    result = run_python(
        "-c",
        ANSWERS_IN_ANOTHER_PROCESS,
        str(ids_file),
        environment=process_environment(
            DJANGO_SETTINGS_MODULE="config.settings", PYTHONHASHSEED="12345"
        ),
    )

    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout.splitlines()[-1])) == chosen(30)


def test_anonymous_callers_are_never_in_a_share() -> None:
    rule = share_rule(100)

    assert rule.is_on_for("rollout", AnonymousUser()) is False
    assert rule.is_on_for("rollout", None) is False


# --- Rules and their combinations ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "user_roles", "is_listed", "expected"),
    [
        # roles
        (Rule(None, 0, frozenset({"tester"}), frozenset()), ("tester",), False, True),
        (Rule(None, 0, frozenset({"tester"}), frozenset()), ("user",), False, False),
        # users
        (Rule(None, 0, frozenset(), frozenset({"listed"})), (), True, True),
        (Rule(None, 0, frozenset(), frozenset({"listed"})), (), False, False),
        # everyone overrides every other rule
        (Rule(True, 0, frozenset(), frozenset()), (), False, True),
        (
            Rule(False, 1000, frozenset({"user"}), frozenset({"listed"})),
            ("user",),
            True,
            False,
        ),
        # nothing set: off
        (Rule(None, 0, frozenset(), frozenset()), ("superadmin",), False, False),
    ],
)
def test_rules(rule: Rule, user_roles: tuple, is_listed: bool, expected: bool) -> None:
    user = caller("listed" if is_listed else "someone", user_roles)

    assert rule.is_on_for("flag", user) is expected


def test_thirty_percent_plus_all_admins_and_testers() -> None:
    rule = Rule(None, share_of(30), frozenset({"admin", "tester"}), frozenset())
    inside = chosen(30)
    outside = [i for i in USER_IDS if i not in inside]

    assert all(rule.is_on_for("rollout", caller(i, ("admin",))) for i in outside)
    assert all(rule.is_on_for("rollout", caller(i, ("tester",))) for i in outside)
    assert not any(rule.is_on_for("rollout", caller(i, ("user",))) for i in outside)
    assert all(rule.is_on_for("rollout", caller(i, ("user",))) for i in inside)


@pytest.mark.django_db
def test_loaded_users_go_by_their_groups_a_superuser_is_superadmin() -> None:
    make_flag("for_superadmins", roles=["superadmin"])
    make_flag("for_testers", roles=["tester"])
    tester = account("tester")
    superuser = account(is_superuser=True)  # in no group

    assert flag_is_on("for_testers", tester) is True
    assert flag_is_on("for_superadmins", tester) is False
    assert flag_is_on("for_superadmins", superuser) is True


@pytest.mark.django_db
def test_a_missing_flag_is_the_default() -> None:
    assert flag_is_on("never_made", None) is False
    assert flag_is_on("never_made", None, default=True) is True
    assert "never_made" not in flags_for(None)


@pytest.mark.django_db
def test_a_database_change_through_the_services_is_seen() -> None:
    person = account()
    make_flag("beta")
    assert flag_is_on("beta", person) is False

    set_rules("beta", users=[str(person.pk)])

    assert flag_is_on("beta", person) is True


# --- Waffle's own entry point ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rules",
    [
        {"everyone": True},
        {"everyone": False},
        {"roles": ["tester"]},
        {"percent": 50},
        {"percent": 50, "roles": ["admin"]},
    ],
)
def test_waffle_agrees_with_ours(rules: dict) -> None:
    make_flag("beta", **rules)
    people = [account("tester"), account("admin"), *(account() for _ in range(8))]
    factory = RequestFactory()

    for person in [*people, AnonymousUser()]:
        request = factory.get("/")
        request.user = person
        assert waffle.flag_is_active(request, "beta") is flag_is_on("beta", person)
