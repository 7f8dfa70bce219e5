"""A new ban while one is in force: the longer one stays unless staff say otherwise.

The rule (issue 13), the same through the service, ``manage.py ban``, the admin's ban
actions and the API: a new ban that ends later (or never) replaces the one in force; one
that ends as late or sooner is not placed, and the longer one is kept, unless ``replace``
(``--replace``, the admin's "Replace a longer ban" box). Both outcomes are audited, and the
history (the ``Ban`` rows) keeps the replaced ban, lifted and naming its successor.
Before, every new ban silently replaced the one in force, however short.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.access import SYSTEM_ACTOR
from accounts.constants import AuditKind
from accounts.models import AuditEvent, Ban, User
from accounts.services.moderation import BanPlacement, user_ban
from config.client import SYSTEM
from tests.helpers import account, admin_client_for, client_for

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def place(
    user: User, until: datetime | None, *, replace: bool = False, actor=SYSTEM_ACTOR
) -> BanPlacement:
    return user_ban(
        user_id=user.pk,
        actor=actor,
        reason="spam",
        until=until,
        client=SYSTEM,
        replace=replace,
    )


def in_force(user: User) -> list[Ban]:
    return list(Ban.objects.filter(user=user).in_force())


# --- the service ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [(1, 7), (7, None)],
    ids=["a later end", "permanent over temporary"],
)
def test_a_longer_ban_replaces_the_one_in_force(first: int, second: int | None) -> None:
    user = account()
    now = timezone.now()
    old = place(user, now + first * DAY).ban

    placement = place(user, now + second * DAY if second else None)

    assert placement.placed
    assert placement.replaced == old
    assert in_force(user) == [placement.ban]
    old.refresh_from_db()
    assert old.lifted_at == placement.ban.created_at
    assert old.replaced_by == placement.ban
    assert Ban.objects.filter(user=user).count() == 2  # the history shows both
    event = AuditEvent.objects.filter(kind=AuditKind.USER_BANNED).first()
    assert event is not None
    assert event.payload["replaces"] == str(old.pk)


@pytest.mark.parametrize(
    ("first", "second"),
    [(7, 1), (None, 7), (7, 7), (None, None)],
    ids=[
        "an earlier end",
        "temporary under permanent",
        "the same end",
        "both for good",
    ],
)
def test_a_ban_that_ends_no_later_keeps_the_one_in_force(
    first: int | None, second: int | None, django_capture_on_commit_callbacks
) -> None:
    """Before: the shorter ban replaced the longer one, cutting a ban short by mistake."""
    user = account()
    now = timezone.now()
    old = place(user, now + first * DAY if first else None).ban
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        placement = place(user, now + second * DAY if second else None)

    assert not placement.placed
    assert placement.ban == old
    assert in_force(user) == [old]
    assert Ban.objects.filter(user=user).count() == 1
    kept = AuditEvent.objects.get(kind=AuditKind.USER_BAN_KEPT, target=user)
    assert kept.payload["ban"] == str(old.pk)
    assert kept.payload["requested_until"] == (
        (now + second * DAY).isoformat() if second else None
    )
    assert mail.outbox == []  # nothing changed for the user


def test_replace_shortens_a_ban_on_purpose() -> None:
    user = account()
    now = timezone.now()
    old = place(user, None).ban

    placement = place(user, now + DAY, replace=True)

    assert placement.placed
    assert placement.replaced == old
    assert in_force(user) == [placement.ban]
    assert placement.ban.until == now + DAY
    old.refresh_from_db()
    assert old.replaced_by == placement.ban
    assert old.lifted_at is not None


def test_a_replacing_ban_tells_the_user_its_new_end(
    django_capture_on_commit_callbacks,
) -> None:
    user = account()
    place(user, timezone.now() + DAY)

    with django_capture_on_commit_callbacks(execute=True):
        place(user, None)

    assert [message.to for message in mail.outbox] == [[user.email]]


# --- manage.py ban ----------------------------------------------------------------------


def command(*arguments: str) -> str:
    out = StringIO()
    call_command("ban", *arguments, "--reason", "spam", stdout=out)
    return out.getvalue()


def test_the_command_keeps_a_longer_ban_and_says_so() -> None:
    user = account(username="ada")
    kept = place(user, None).ban

    said = command("ada", "--for", "1d")

    assert said == (
        "A longer ban of ada is in force for good; kept. Use --replace to shorten it.\n"
    )
    assert in_force(user) == [kept]


def test_the_command_replaces_with_replace_and_says_so() -> None:
    user = account(username="ada")
    old = place(user, timezone.now() + 7 * DAY).ban

    said = command("ada", "--for", "1d", "--replace")

    assert said.startswith("Banned ada until ")
    assert (
        f"replacing the longer ban in force until {old.until:%Y-%m-%d %H:%M} UTC"
        in (said)
    )
    assert in_force(user)[0].until < old.until


def test_the_command_says_when_it_replaces_a_shorter_ban() -> None:
    user = account(username="ada")
    old = place(user, timezone.now() + DAY).ban

    said = command("ada")

    assert said == (
        "Banned ada for good, replacing the shorter ban in force "
        f"until {old.until:%Y-%m-%d %H:%M} UTC.\n"
    )


def test_the_command_says_a_ban_as_long_is_kept_and_replaced() -> None:
    user = account(username="ada")
    place(user, None)

    assert command("ada").startswith("A ban as long of ada is in force for good; kept.")
    assert command("ada", "--replace") == (
        "Banned ada for good, replacing the ban in force for good.\n"
    )


# --- the admin's ban actions ------------------------------------------------------------


def admin_ban(client: Client, user: User, action: str, **extra: str):
    return client.post(
        "/admin/accounts/user/",
        {
            "action": action,
            "_selected_action": [str(user.pk)],
            "reason": "spam",
            **extra,
        },
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_ban_page_offers_to_replace_a_longer_ban() -> None:
    moderator = account("moderator")
    user = account()

    page = admin_client_for(moderator).post(
        "/admin/accounts/user/",
        {"action": "ban_for_a_day", "_selected_action": [str(user.pk)]},
    )

    assert 'name="replace"' in page.content.decode()
    assert "Replace a longer ban in force" in page.content.decode()


def test_the_admin_keeps_a_longer_ban_and_says_so() -> None:
    moderator = account("moderator")
    user = account(username="ada")
    kept = place(user, timezone.now() + 7 * DAY).ban

    response = admin_ban(admin_client_for(moderator), user, "ban_for_a_day")

    assert in_force(user) == [kept]
    assert messages_of(response) == [
        f"ada: A longer ban is in force until {kept.until:%Y-%m-%d %H:%M} UTC; "
        'kept. Tick "Replace a longer ban" to shorten it.'
    ]
    assert AuditEvent.objects.filter(
        kind=AuditKind.USER_BAN_KEPT, actor=moderator, target=user
    ).exists()


def test_the_admin_replaces_a_longer_ban_when_told() -> None:
    moderator = account("moderator")
    user = account(username="ada")
    old = place(user, None).ban

    response = admin_ban(
        admin_client_for(moderator), user, "ban_for_a_day", replace="yes"
    )

    (ban,) = in_force(user)
    assert ban.until is not None
    assert ban.created_by == moderator
    assert messages_of(response) == [
        "Banned for 1 day: ada.",
        "ada: replaces the longer ban that was in force for good.",
    ]
    old.refresh_from_db()
    assert old.replaced_by == ban


def test_the_admin_says_a_longer_ban_replaced_a_shorter_one() -> None:
    moderator = account("moderator")
    user = account(username="ada")
    old = place(user, timezone.now() + DAY).ban

    response = admin_ban(admin_client_for(moderator), user, "ban_permanently")

    assert in_force(user)[0].until is None
    assert messages_of(response)[1] == (
        "ada: replaces the shorter ban that was in force "
        f"until {old.until:%Y-%m-%d %H:%M} UTC."
    )


def test_the_admin_says_a_ban_as_long_is_kept_or_replaced() -> None:
    moderator = account("moderator")
    user = account(username="ada")
    place(user, None)
    client = admin_client_for(moderator)

    kept = admin_ban(client, user, "ban_permanently")
    replaced = admin_ban(client, user, "ban_permanently", replace="yes")

    assert messages_of(kept)[0].startswith("ada: A ban as long is in force for good")
    assert messages_of(replaced)[1] == (
        "ada: replaces the ban that was in force for good."
    )


def test_the_users_ban_history_shows_both_bans() -> None:
    superadmin = account("superadmin")
    user = account(username="ada")
    place(user, timezone.now() + DAY)
    place(user, None)

    page = admin_client_for(superadmin).get(f"/admin/accounts/user/{user.pk}/change/")

    text = page.content.decode()
    assert (
        text.count("Permanent ban of ada") >= 2
    )  # its row, and the first one's successor
    assert "Ban of ada until " in text


# --- the API ----------------------------------------------------------------------------


def test_the_api_keeps_the_longer_ban_and_answers_it() -> None:
    """API.md: 200 the ban. When a longer ban is in force, the answer is that ban."""
    moderator = account("moderator")
    user = account()
    kept = place(user, None).ban

    response = client_for(moderator).post(
        f"/api/v1/users/{user.pk}/ban/",
        {"reason": "spam", "duration": 3600},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["id"] == str(kept.pk)
    assert response.json()["until"] is None
    assert in_force(user) == [kept]


def test_the_api_replaces_a_shorter_ban() -> None:
    moderator = account("moderator")
    user = account()
    old = place(user, timezone.now() + DAY).ban

    response = client_for(moderator).post(
        f"/api/v1/users/{user.pk}/ban/", {"reason": "spam"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["until"] is None
    assert response.json()["id"] != str(old.pk)
    assert [str(ban.pk) for ban in in_force(user)] == [response.json()["id"]]
