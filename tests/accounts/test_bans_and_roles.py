"""Bans and roles: the permission rules, the effect on tokens, and ops commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Ban, TOTPAuthenticator, User
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import account, bearer, client_for

pytestmark = pytest.mark.django_db


def ban(actor: User, target: User, **body: object):
    return client_for(actor).post(
        f"/api/v1/users/{target.pk}/ban/", {"reason": "spam", **body}, format="json"
    )


@pytest.mark.parametrize(
    ("actor_role", "target_role", "status"),
    [
        (None, None, 403),
        ("tester", None, 403),
        ("moderator", None, 200),
        ("moderator", "tester", 200),
        ("moderator", "moderator", 403),
        ("moderator", "admin", 403),
        ("admin", "moderator", 200),
        ("admin", "admin", 200),
        ("admin", "superadmin", 403),
        ("superadmin", "admin", 200),
    ],
)
def test_who_may_ban_whom(
    actor_role: str | None, target_role: str | None, status: int
) -> None:
    actor, target = account(actor_role), account(target_role)

    response = ban(actor, target)

    assert response.status_code == status, response.content
    assert Ban.objects.filter(user=target).exists() is (status == 200)


def test_nobody_bans_themselves() -> None:
    admin = account("admin")

    assert ban(admin, admin).status_code == 403
    assert not Ban.objects.exists()


def test_anonymous_cannot_ban() -> None:
    target = account()

    response = APIClient().post(
        f"/api/v1/users/{target.pk}/ban/", {"reason": "x"}, format="json"
    )

    assert response.status_code == 401


def test_a_ban_refuses_login_and_kills_existing_tokens(login: Callable) -> None:
    moderator, target = account("moderator"), account()
    session = login(target)
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 200

    response = ban(moderator, target, duration=86400)

    assert response.status_code == 200
    body = response.json()
    assert body["reason"] == "spam"
    assert body["until"] is not None
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401
    refresh = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": session["refresh"]}, format="json"
    )
    assert refresh.status_code == 401
    refused = APIClient().post(
        "/api/v1/auth/login/",
        {"login": target.username, "password": DEFAULT_PASSWORD},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "account_banned"
    assert refused.json()["banned_until"] == body["until"]
    assert [message.to for message in mail.outbox] == [[target.email]]
    assert AuditEvent.objects.filter(
        kind="user.banned", target=target, actor=moderator
    ).exists()


def test_a_permanent_ban_answers_banned_until_null() -> None:
    target = account()
    assert ban(account("admin"), target).json()["until"] is None

    refused = APIClient().post(
        "/api/v1/auth/login/",
        {"login": target.username, "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert refused.json()["banned_until"] is None


def test_a_ban_ends_by_itself(time_machine) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    target = account()
    ban(account("moderator"), target, duration=3600)

    time_machine.shift(timedelta(hours=1, seconds=1))
    response = APIClient().post(
        "/api/v1/auth/login/",
        {"login": target.username, "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == 200


def test_until_in_the_past_or_both_until_and_duration_are_refused() -> None:
    moderator, target = account("moderator"), account()
    past = (timezone.now() - timedelta(hours=1)).isoformat()

    assert ban(moderator, target, until=past).status_code == 400
    assert ban(moderator, target, until=past, duration=60).status_code == 400
    assert not Ban.objects.exists()


def test_unban_lifts_it_and_keeps_the_history() -> None:
    moderator, target = account("moderator"), account()
    ban(moderator, target)

    response = client_for(moderator).delete(f"/api/v1/users/{target.pk}/ban/")

    assert response.status_code == 204
    assert Ban.objects.get(user=target).lifted_at is not None
    assert (
        APIClient()
        .post(
            "/api/v1/auth/login/",
            {"login": target.username, "password": DEFAULT_PASSWORD},
            format="json",
        )
        .status_code
        == 200
    )
    assert (
        client_for(moderator).delete(f"/api/v1/users/{target.pk}/ban/").status_code
        == 404
    )


def test_staff_without_mfa_cannot_ban() -> None:
    moderator, target = account("moderator"), account()
    TOTPAuthenticator.objects.filter(user=moderator).delete()

    response = ban(moderator, target)

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_setup_required"


def test_manage_py_ban_and_unban(
    login: Callable, django_capture_on_commit_callbacks
) -> None:
    target = account()
    session = login(target)
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):  # as the command commits
        call_command(
            "ban", target.email, "--for", "7d", "--reason", "abuse", verbosity=0
        )

    ban_row = Ban.objects.get(user=target)
    assert (
        timedelta(days=6, hours=23)
        < ban_row.until - timezone.now()
        <= timedelta(days=7)
    )
    assert bearer(session["access"]).get("/api/v1/users/me/").status_code == 401
    call_command("unban", target.username, verbosity=0)
    assert Ban.objects.in_force().count() == 0
    with pytest.raises(CommandError):
        call_command("ban", target.username, "--for", "soon", "--reason", "x")
    with pytest.raises(CommandError):
        call_command("unban", target.username)


# --- roles -------------------------------------------------------------------------------


def set_roles(actor: User, target: User, roles: list[str]):
    return client_for(actor).put(
        f"/api/v1/users/{target.pk}/roles/", {"roles": roles}, format="json"
    )


@pytest.mark.parametrize(
    ("actor_role", "status"), [("admin", 403), ("moderator", 403), ("superadmin", 200)]
)
def test_only_superadmins_change_roles(actor_role: str, status: int) -> None:
    target = account()

    response = set_roles(account(actor_role), target, ["moderator"])

    assert response.status_code == status
    assert target.groups.filter(name="moderator").exists() is (status == 200)


def test_roles_set_staff_and_show_in_the_profile() -> None:
    target = account()

    response = set_roles(account("superadmin"), target, ["tester", "moderator"])

    assert response.json()["roles"] == ["tester", "moderator"]
    target.refresh_from_db()
    assert target.is_staff is True
    assert AuditEvent.objects.filter(kind="user.roles_changed", target=target).exists()


def test_the_last_superadmin_keeps_the_role() -> None:
    only = account("superadmin")

    response = set_roles(only, only, ["admin"])

    assert response.status_code == 409
    assert only.groups.filter(name="superadmin").exists()


def test_a_superadmin_steps_down_while_another_remains() -> None:
    first, second = account("superadmin"), account("superadmin")

    response = set_roles(first, second, ["admin"])

    assert response.status_code == 200
    assert response.json()["roles"] == ["admin"]
    assert not second.groups.filter(name="superadmin").exists()


def test_an_unknown_role_is_a_validation_error() -> None:
    response = set_roles(account("superadmin"), account(), ["emperor"])

    assert response.status_code == 400
    assert "roles" in response.json()["errors"]


def test_unknown_users_are_not_found() -> None:
    import uuid

    response = client_for(account("admin")).post(
        f"/api/v1/users/{uuid.uuid4()}/ban/", {"reason": "x"}, format="json"
    )

    assert response.status_code == 404


def test_the_actor_of_commands_names_itself_in_logs() -> None:
    from accounts.access import SYSTEM_ACTOR

    assert repr(SYSTEM_ACTOR) == "SYSTEM_ACTOR"


def test_sync_roles_applies_each_roles_permissions() -> None:
    Group.objects.all().delete()

    call_command("sync_roles", verbosity=0)

    def codenames(role: str) -> set[str]:
        return set(
            Group.objects.get(name=role).permissions.values_list("codename", flat=True)
        )

    assert codenames("user") == set()
    # The permissions standing for an action follow accounts.access: moderators edit the
    # profiles of users and testers (change_user), only admins and up erase (delete_user).
    assert {"ban_user", "view_user", "change_user"} <= codenames("moderator")
    assert "delete_user" not in codenames("moderator")
    assert {"ban_user", "change_user", "delete_user"} <= codenames("admin")
    assert "change_role" not in codenames("admin")
    assert "change_role" in codenames("superadmin")
