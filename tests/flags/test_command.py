"""``manage.py flags`` (issue 15): flags from the server's shell, as the system actor,
through the services (history through ``manage.py``, audit with no person); bad input is
one line on stderr and exit code 1."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.utils import timezone

from accounts.constants import AuditKind
from accounts.models import AuditEvent
from flags.models import Flag, FlagChange
from tests.factories import UserFactory
from tests.flags.helpers import make_flag

pytestmark = pytest.mark.django_db

ENDPOINT = "api:auth/login/"


def flags(*arguments: str) -> str:
    """``manage.py flags …`` in this process; its standard output."""
    out = io.StringIO()
    call_command("flags", *arguments, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def exit_code(*arguments: str) -> int:
    """``manage.py flags …`` as from a shell: the exit code (stderr via capsys)."""
    try:
        execute_from_command_line(["manage.py", "flags", *arguments])
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


# --- list ----------------------------------------------------------------------------


def test_list_prints_name_state_rules_and_last_change() -> None:
    make_flag("new-dashboard", percent=30, roles=["admin", "tester"])
    make_flag("beta-export", everyone=True)
    Flag.objects.filter(name="beta-export").update(
        modified=timezone.make_aware(timezone.datetime(2026, 3, 1, 9, 30))
    )

    output = flags("list", "--kind", "feature")

    lines = output.splitlines()
    assert lines[0].split() == ["name", "state", "rules", "updated"]
    assert lines[1].startswith("beta-export")
    assert "on" in lines[1].split()
    assert "On for everyone" in lines[1]
    assert lines[1].endswith("2026-03-01 09:30 UTC")
    assert lines[2].startswith("new-dashboard")
    assert "rules" in lines[2].split()
    assert "30% of signed-in users + roles tester, admin" in lines[2]
    assert len(lines) == 3
    assert all(line == line.rstrip() for line in lines)


def test_list_includes_the_endpoint_flags_unless_asked_for_features() -> None:
    assert ENDPOINT in flags("list")
    assert ENDPOINT in flags("list", "--kind", "endpoint")
    assert ENDPOINT not in flags("list", "--kind", "feature")


def test_list_json_is_one_array_for_scripts() -> None:
    ada = UserFactory(username="ada")
    make_flag("new-dashboard", percent="12.5", users=[ada.pk], note="charts")

    [flag] = json.loads(flags("list", "--kind", "feature", "--json"))

    assert flag == {
        "name": "new-dashboard",
        "kind": "feature",
        "state": "rules",
        "rules": "12.5% of signed-in users + 1 user",
        "everyone": None,
        "percent": 12.5,
        "roles": [],
        "users": [str(ada.pk)],
        "note": "charts",
        "updated_at": Flag.objects.get(name="new-dashboard").modified.isoformat(),
    }


def test_list_with_no_feature_flags_says_so() -> None:
    assert flags("list", "--kind", "feature") == "No flags.\n"


# --- on, off, rules, percent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "before", "after", "line"),
    [
        ("on", None, True, "new-dashboard: now on for everyone."),
        ("off", True, False, "new-dashboard: now off for everyone."),
        ("rules", False, None, "new-dashboard: now by rules."),
    ],
)
def test_on_off_and_rules_change_everyone_through_the_service(
    command: str, before: bool | None, after: bool | None, line: str
) -> None:
    make_flag("new-dashboard")
    Flag.objects.filter(name="new-dashboard").update(everyone=before)

    output = flags(command, "new-dashboard")

    assert output == f"{line}\n"
    flag = Flag.objects.get(name="new-dashboard")
    assert flag.everyone is after
    change = FlagChange.objects.filter(flag=flag).first()
    assert change is not None
    assert (change.actor, change.source) == (None, FlagChange.Source.COMMAND)
    assert change.changes == {"everyone": {"from": before, "to": after}}
    event = AuditEvent.objects.filter(kind=AuditKind.FLAG_CHANGED).latest("created_at")
    assert (event.actor, event.ip) == (None, None)
    assert event.payload["source"] == "command"


def test_a_flag_already_so_is_left_alone() -> None:
    make_flag("new-dashboard", everyone=True)
    changes = FlagChange.objects.count()

    assert flags("on", "new-dashboard") == "new-dashboard: already on for everyone.\n"
    assert FlagChange.objects.count() == changes


def test_switching_an_endpoint_off_says_what_happens_to_its_route() -> None:
    output = flags("off", ENDPOINT)

    assert output.splitlines() == [
        "api:auth/login/: now off for everyone.",
        "/api/v1/auth/login/ is refused to every caller until it is on.",
    ]
    assert Flag.objects.get(name=ENDPOINT).everyone is False


def test_percent_sets_the_share() -> None:
    make_flag("new-dashboard")

    output = flags("percent", "new-dashboard", "30")

    assert output == "new-dashboard: 30% of signed-in users.\n"
    assert Flag.objects.get(name="new-dashboard").percent == Decimal(30)


def test_percent_under_an_everyone_rule_says_it_does_not_count_yet() -> None:
    make_flag("new-dashboard", everyone=False)

    output = flags("percent", "new-dashboard", "12.5")

    assert output == (
        "new-dashboard: 12.5% of signed-in users, but it is off for everyone: run "
        "`flags rules new-dashboard` for the percentage to count.\n"
    )


# --- stale, create -----------------------------------------------------------------------


def test_stale_lists_flags_unchanged_for_the_days_and_fully_on_or_off() -> None:
    old = timezone.now() - timedelta(days=100)
    for name, rules in [
        ("old-on", {"everyone": True}),
        ("old-rollout", {"percent": 30}),
        ("old-unused", {}),
    ]:
        make_flag(name, **rules)
        Flag.objects.filter(name=name).update(modified=old)
    make_flag("recent-on", everyone=True)
    Flag.objects.filter(name=ENDPOINT).update(modified=old)

    output = flags("stale")
    shorter = flags("stale", "--days", "101")

    lines = output.splitlines()
    assert lines[0].split() == ["name", "state", "updated", "note"]
    assert [line.split()[0] for line in lines[1:]] == ["old-on", "old-unused"]
    assert [line.split()[1] for line in lines[1:]] == ["on", "rules"]
    assert shorter == "none\n"


def test_stale_with_no_candidates_prints_none_and_exits_0(capsys) -> None:
    assert exit_code("stale", "--days", "30") == 0
    assert capsys.readouterr().out == "none\n"


def test_create_makes_an_off_feature_flag_with_its_note() -> None:
    output = flags("create", "beta-export", "--note", "The CSV export")

    flag = Flag.objects.get(name="beta-export")
    assert (flag.everyone, flag.is_endpoint, flag.note) == (
        None,
        False,
        "The CSV export",
    )
    assert output.startswith("Created flag beta-export: off")
    assert AuditEvent.objects.filter(
        kind=AuditKind.FLAG_CREATED, payload__flag="beta-export"
    ).exists()


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("on", "missing"), "No flag 'missing': list shows every flag."),
        (("off", "missing"), "No flag 'missing': list shows every flag."),
        (("percent", "missing", "10"), "No flag 'missing': list shows every flag."),
        (("percent", "new-dashboard", "101"), "Give a number from 0 to 100."),
        (("percent", "new-dashboard", "half"), "Give a number from 0 to 100."),
        (("percent", "new-dashboard", "12.25"), "Give at most one decimal place."),
        (("create", "new-dashboard"), "A flag of that name exists."),
        (("create", "two words"), "Give a name of 1-100 characters, no spaces."),
        (("stale", "--days", "0"), "--days takes a number of days from 1, not 0."),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    arguments: tuple[str, ...], message: str
) -> None:
    make_flag("new-dashboard")
    changes = FlagChange.objects.count()

    with pytest.raises(CommandError) as error:
        flags(*arguments)

    assert str(error.value) == message
    assert FlagChange.objects.count() == changes
    assert Flag.objects.get(name="new-dashboard").percent is None


def test_an_error_exits_1_with_one_line_on_stderr(capsys) -> None:
    assert exit_code("on", "missing") == 1

    captured = capsys.readouterr()
    assert captured.err == "CommandError: No flag 'missing': list shows every flag.\n"
    assert captured.out == ""


def test_help_explains_each_subcommand(capsys) -> None:
    assert exit_code("--help") == 0
    top = capsys.readouterr().out
    assert "{list,on,off,rules,percent,stale,create}" in top
    assert "system actor" in top

    assert exit_code("stale", "--help") == 0
    stale = capsys.readouterr().out
    assert "candidates for removal" in stale
    assert "--days" in stale
