"""Who may do what to whom, through every way in: the API, the admin, ``manage.py`` and
the services themselves.

``MAY`` below states the rules again, from the README's role table, independently of
``accounts.access``: for each action, each acting role and the roles of the accounts it may
act on (``self`` is the actor's own account). Every row runs through each way in that
offers the action; an allowed row checks the effect and the audit event naming the actor,
a refused row checks that nothing changed at all (no ban, no audit event, roles, profile,
password, factors unchanged, sessions live). The actors sign in with their second
factor; without it in the session (``amr``), every staff row is refused
``mfa_setup_required``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from accounts.access import SYSTEM_ACTOR, Actor
from accounts.constants import AMR_PASSWORD, AMR_PASSWORD_AND_SECOND_FACTOR, AuditKind
from accounts.crypto import encrypt_secret
from accounts.models import AuditEvent, AuthSession, Ban, TOTPAuthenticator, User
from accounts.services.deletion import user_delete
from accounts.services.mfa import mfa_reset_by_staff
from accounts.services.moderation import (
    roles_set,
    sessions_revoke_by_staff,
    user_ban,
    user_unban,
    user_update_by_staff,
)
from accounts.services.password import password_set_by_staff
from accounts.services.profile import email_change_by_staff
from accounts.services.sessions import session_create
from accounts.session_state import authenticated_user
from config.client import SYSTEM
from config.errors import ApplicationError

pytestmark = pytest.mark.django_db

ROLES = ("user", "tester", "moderator", "admin", "superadmin")
STAFF = ("moderator", "admin", "superadmin")
MODERATED = ("user", "tester")
BELOW_SUPERADMIN = ("user", "tester", "moderator", "admin")

MODERATION = {
    "moderator": MODERATED,
    "admin": BELOW_SUPERADMIN,
    "superadmin": BELOW_SUPERADMIN,
}
ADMINISTRATION = {"admin": BELOW_SUPERADMIN, "superadmin": BELOW_SUPERADMIN}

# action -> acting role -> the roles of the accounts it may act on. Nobody acts on
# themselves, but a superadmin on their own roles; superadmins act on each other only
# through roles.
MAY: dict[str, dict[str, tuple[str, ...]]] = {
    "ban": MODERATION,
    "unban": MODERATION,
    "deactivate": MODERATION,
    "edit_profile": MODERATION,
    "revoke_sessions": MODERATION,
    "erase": ADMINISTRATION,
    "reset_mfa": ADMINISTRATION,
    "set_password": ADMINISTRATION,
    "change_email": ADMINISTRATION,
    "set_roles": {"superadmin": (*ROLES, "self")},
    # API keys (apikeys): another user's key, as their sessions; owners revoke their own
    # (``self``) whatever their role; a global key (no owner), admins and up.
    "revoke_api_key": {role: (*MODERATION.get(role, ()), "self") for role in ROLES},
    "create_global_api_key": {"admin": ("nobody",), "superadmin": ("nobody",)},
}

NEW_BIO = "changed by staff"
NEW_PASSWORD = "a brand new passphrase, long enough"
NEW_EMAIL = "changed.by.staff@example.com"

AUDITED_AS = {
    "ban": AuditKind.USER_BANNED,
    "unban": AuditKind.USER_UNBANNED,
    "deactivate": AuditKind.USER_DEACTIVATED,
    "edit_profile": AuditKind.PROFILE_UPDATED,
    "revoke_sessions": AuditKind.SESSIONS_REVOKED_ALL,
    "erase": AuditKind.USER_DELETED,
    "reset_mfa": AuditKind.MFA_DISABLED,
    "set_roles": AuditKind.ROLES_CHANGED,
    "change_email": AuditKind.EMAIL_CHANGE_REQUESTED,
}


def pairs() -> list[tuple[str, str]]:
    # Non-staff are refused whatever the target: one target each is enough.
    return [
        ("user", "user"),
        ("tester", "user"),
        *((actor, target) for actor in STAFF for target in (*ROLES, "self")),
    ]


def rows(actions: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(actor, action, target, id=f"{actor}-{action}-{target}")
        for action in actions
        for actor, target in pairs()
    ]


def allowed(actor_role: str, action: str, target_role: str) -> bool:
    return target_role in MAY[action].get(actor_role, ())


# --- the scene: cheap accounts (no password hashing), a live session, a factor ----------

FACTOR_KEY = encrypt_secret(b"1" * 20)


def account(role: str, name: str) -> User:
    user = User.objects.create(
        username=name, email=f"{name}@example.com", display_name=name
    )
    user.groups.add(Group.objects.get(name=role))
    if role in STAFF:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    TOTPAuthenticator.objects.create(
        user=user, name="app", confirmed=True, encrypted_key=FACTOR_KEY
    )
    return user


@dataclass
class Scene:
    actor: User
    target: User


def scene(actor_role: str, action: str, target_role: str) -> Scene:
    actor = account(actor_role, "actor")
    target = actor if target_role == "self" else account(target_role, "target")
    session_create(user=target, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR)
    if action == "unban":
        Ban.objects.create(user=target, reason="earlier")
    return Scene(actor, target)


def state(user: User) -> dict[str, Any]:
    """Everything a staff action could change about ``user``."""
    user = User.objects.get(pk=user.pk)
    return {
        "row": {
            field: getattr(user, field)
            for field in (
                "username",
                "email",
                "is_active",
                "password",
                "is_staff",
                *User.PROFILE_FIELDS,
            )
        },
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "bans": list(Ban.objects.filter(user=user).values_list("pk", "lifted_at")),
        "live_sessions": AuthSession.objects.filter(
            user=user, revoked_at__isnull=True
        ).count(),
        "factors": TOTPAuthenticator.objects.filter(user=user).count(),
        "addresses": sorted(
            EmailAddress.objects.filter(user=user).values_list("email", "verified")
        ),
        "audit_events": AuditEvent.objects.filter(target=user).count(),
    }


def took_effect(action: str, target: User, before: dict[str, Any]) -> bool:
    user = User.objects.get(pk=target.pk)
    in_force = Ban.objects.filter(user=user).in_force().exists()
    live_sessions = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
    return {
        "ban": lambda: in_force,
        "unban": lambda: not in_force,
        "deactivate": lambda: not user.is_active and not live_sessions,
        "edit_profile": lambda: user.bio == NEW_BIO,
        "revoke_sessions": lambda: (
            not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()
        ),
        "erase": lambda: user.username.startswith("deleted_"),
        "reset_mfa": lambda: not TOTPAuthenticator.objects.filter(user=user).exists(),
        "set_password": lambda: user.check_password(NEW_PASSWORD),
        "set_roles": lambda: state(user)["roles"] != before["roles"],
        # A link went to the new address; the email changes once it is followed.
        "change_email": lambda: (
            EmailAddress.objects.filter(
                user=user, email=NEW_EMAIL, verified=False
            ).exists()
            and user.email == before["row"]["email"]
        ),
    }[action]()


def check_outcome(
    scene: Scene, action: str, *, expected: bool, before: dict[str, Any]
) -> None:
    check_target(scene.actor, scene.target, action, expected=expected, before=before)


def check_target(
    actor: User, target: User, action: str, *, expected: bool, before: dict[str, Any]
) -> None:
    if expected:
        assert took_effect(action, target, before)
        if action in AUDITED_AS:
            assert AuditEvent.objects.filter(
                kind=AUDITED_AS[action], actor=actor, target=target
            ).exists()
    else:
        assert state(target) == before


def wanted_roles(target: User) -> list[str]:
    """The target's roles with ``tester`` added (or taken away from a tester): a change
    that never drops a superadmin."""
    return sorted({*target.groups.values_list("name", flat=True)} ^ {"tester"})


# --- the API ----------------------------------------------------------------------------

API_ACTIONS = ("ban", "unban", "deactivate", "edit_profile", "erase", "set_roles")


def api_call(client: APIClient, action: str, target: User) -> tuple[Any, int]:
    """The request for ``action`` and the status it answers when allowed."""
    user = f"/api/v1/users/{target.pk}/"
    return {
        "ban": lambda: (client.post(f"{user}ban/", {"reason": "spam"}), 200),
        "unban": lambda: (client.delete(f"{user}ban/"), 204),
        "deactivate": lambda: (client.patch(user, {"is_active": False}), 200),
        "edit_profile": lambda: (client.patch(user, {"bio": NEW_BIO}), 200),
        "erase": lambda: (client.delete(user), 204),
        "set_roles": lambda: (
            client.put(f"{user}roles/", {"roles": wanted_roles(target)}),
            200,
        ),
    }[action]()


@pytest.mark.parametrize(("actor_role", "action", "target_role"), rows(API_ACTIONS))
def test_the_api(actor_role: str, action: str, target_role: str) -> None:
    given = scene(actor_role, action, target_role)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + session_create(
            user=given.actor, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR
        )[1].access
    )
    client.default_format = "json"
    before = state(given.target)
    expected = allowed(actor_role, action, target_role)

    response, success = api_call(client, action, given.target)

    assert response.status_code == (success if expected else 403), response.content
    if not expected:
        assert response.json()["code"] == "permission_denied"
    check_outcome(given, action, expected=expected, before=before)


def allowed_rows(actions: tuple[str, ...]) -> list[Any]:
    """Every staff role with each action on one account its role may act on."""
    return [
        pytest.param(actor, action, target, id=f"{actor}-{action}-{target}")
        for action in actions
        for actor in STAFF
        for target in MAY[action].get(actor, ())[:1]
    ]


@pytest.mark.parametrize("amr", [AMR_PASSWORD, ()], ids=["password", "before-amr"])
@pytest.mark.parametrize(
    ("actor_role", "action", "target_role"), allowed_rows(API_ACTIONS)
)
def test_the_api_without_a_second_factor_in_the_session(
    actor_role: str, action: str, target_role: str, amr: tuple[str, ...]
) -> None:
    """A role's powers are in force only in a session that passed a second factor: a
    password-only session (or one from before sessions recorded it) is refused what
    the role allows, though the account has a factor, and nothing changes."""
    given = scene(actor_role, action, target_role)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + session_create(user=given.actor, client=SYSTEM, amr=amr)[1].access
    )
    client.default_format = "json"
    before = state(given.target)

    response, _ = api_call(client, action, given.target)

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "mfa_setup_required"
    check_outcome(given, action, expected=False, before=before)


# --- the admin --------------------------------------------------------------------------

LIST_ACTIONS = {
    "ban": {"action": "ban_permanently", "reason": "spam"},
    "unban": {"action": "unban"},
    "revoke_sessions": {"action": "revoke_all_sessions"},
    "reset_mfa": {"action": "reset_mfa"},
    "erase": {"action": "erase_personal_data", "confirmed": "yes"},
}


def admin_client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = user.totpauthenticator_set.get().persistent_id
    session.save()
    return client


@pytest.mark.parametrize("action", LIST_ACTIONS)
@pytest.mark.parametrize("actor_role", ROLES)
def test_the_admins_list_actions(actor_role: str, action: str) -> None:
    """One action on an account of every role and on the actor's own, selected together:
    it acts on those the rules allow and leaves the others as they were."""
    actor = account(actor_role, "actor")
    targets = {role: account(role, f"target_{role}") for role in ROLES}
    targets["self"] = actor
    for target in targets.values():
        session_create(user=target, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR)
        if action == "unban" and target != actor:  # a banned actor has no admin
            Ban.objects.create(user=target, reason="earlier")
    before = {role: state(target) for role, target in targets.items()}

    response = admin_client_for(actor).post(
        "/admin/accounts/user/",
        {
            **LIST_ACTIONS[action],
            "_selected_action": [str(target.pk) for target in targets.values()],
        },
    )

    assert response.status_code == 302
    for role, target in targets.items():
        check_target(
            actor,
            target,
            action,
            expected=allowed(actor_role, action, role),
            before=before[role],
        )


def change_page_data(client: Client, user: User) -> dict[str, Any]:
    """What the user's page posts back unchanged: its editable fields and inlines."""
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    if page.status_code != 200:
        return {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if isinstance(value, list):
                value = [getattr(item, "pk", item) for item in value]
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


# What each change on a user's page touches, to tell which of them went through.
PAGE_ACTIONS = ("edit_profile", "deactivate", "set_roles")
TOUCHES = {
    "edit_profile": lambda state: state["row"]["bio"],
    "deactivate": lambda state: (state["row"]["is_active"], state["live_sessions"]),
    "set_roles": lambda state: state["roles"],
}


@pytest.mark.parametrize(("actor_role", "target_role"), pairs())
def test_the_admins_user_page(actor_role: str, target_role: str) -> None:
    """One save of a user's page changing the bio, the active state and the roles: each
    change goes through if its own rule allows it, and only then."""
    given = scene(actor_role, "edit_profile", target_role)
    client = admin_client_for(given.actor)
    before = state(given.target)
    data = change_page_data(client, given.target)
    data.pop("is_active", None)  # an unticked box
    data["bio"] = NEW_BIO
    data["groups"] = list(
        Group.objects.filter(name__in=wanted_roles(given.target)).values_list(
            "pk", flat=True
        )
    )

    response = client.post(f"/admin/accounts/user/{given.target.pk}/change/", data)

    assert response.status_code in {302, 403}
    after = state(given.target)
    expected = {
        action: allowed(actor_role, action, target_role) for action in PAGE_ACTIONS
    }
    if target_role == "self":
        # A staff member's own page edits their own profile, as PATCH me/ does: not a
        # staff action on an account.
        expected["edit_profile"] = actor_role in STAFF
    for action in PAGE_ACTIONS:
        if expected[action]:
            check_target(
                given.actor, given.target, action, expected=True, before=before
            )
        else:
            assert TOUCHES[action](after) == TOUCHES[action](before), action
            assert not AuditEvent.objects.filter(
                kind=AUDITED_AS[action], target=given.target
            ).exists()
    if not any(expected.values()):
        assert after == before


@pytest.mark.parametrize(("actor_role", "target_role"), pairs())
def test_the_admins_password_page(actor_role: str, target_role: str) -> None:
    given = scene(actor_role, "set_password", target_role)
    before = state(given.target)
    # One's own password page is one's own, as password/change/ is.
    expected = (
        actor_role in STAFF
        if target_role == "self"
        else allowed(actor_role, "set_password", target_role)
    )

    response = admin_client_for(given.actor).post(
        f"/admin/accounts/user/{given.target.pk}/password/",
        {
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    assert response.status_code in {302, 403}
    check_outcome(given, "set_password", expected=expected, before=before)


@pytest.mark.parametrize(("actor_role", "target_role"), pairs())
def test_the_admins_email_change_page(actor_role: str, target_role: str) -> None:
    """The user page's "Change email address…" is offered, and acts, by the rule; one's
    own address changes through ``me/email/`` (with the password), never here."""
    given = scene(actor_role, "change_email", target_role)
    before = state(given.target)
    expected = allowed(actor_role, "change_email", target_role)
    client = admin_client_for(given.actor)

    page = client.get(f"/admin/accounts/user/{given.target.pk}/change/")
    response = client.post(
        f"/admin/accounts/user/{given.target.pk}/email/", {"new_email": NEW_EMAIL}
    )

    if page.status_code == 200:
        assert (b'id="change-email"' in page.content) is expected
    if expected:
        assert response.status_code == 302
        assert response.url == f"/admin/accounts/user/{given.target.pk}/change/"
    else:  # staff refused; others sent to the admin's login
        assert response.status_code == 403 or response.url.startswith("/admin/login/")
    check_outcome(given, "change_email", expected=expected, before=before)


# --- the services themselves: a caller that skips the checks is still refused ------------

# The API-key actions act on keys, not accounts: their rows run at the end of this file.
API_KEY_ACTIONS = ("revoke_api_key", "create_global_api_key")
SERVICE_ACTIONS = tuple(action for action in MAY if action not in API_KEY_ACTIONS)


def service_call(actor: Actor, action: str, target: User) -> None:
    common: dict[str, Any] = {"actor": actor, "user_id": target.pk, "client": SYSTEM}
    {
        "ban": lambda: user_ban(**common, reason="spam", until=None),
        "unban": lambda: user_unban(**common),
        "deactivate": lambda: user_update_by_staff(
            **common, changes={"is_active": False}
        ),
        "edit_profile": lambda: user_update_by_staff(
            **common, changes={"bio": NEW_BIO}
        ),
        "revoke_sessions": lambda: sessions_revoke_by_staff(**common),
        "erase": lambda: user_delete(**common),
        "reset_mfa": lambda: mfa_reset_by_staff(**common),
        "set_roles": lambda: roles_set(**common, roles=wanted_roles(target)),
        "set_password": lambda: password_set_by_staff(
            **common, new_password=NEW_PASSWORD
        ),
        "change_email": lambda: email_change_by_staff(**common, new_email=NEW_EMAIL),
    }[action]()


@pytest.mark.parametrize(
    ("actor_role", "action", "target_role"),
    [
        row
        for row in rows(SERVICE_ACTIONS)
        # user_delete on oneself is the owner's own deletion (DELETE me/, with the
        # password), and the admin's password page on one's own account is one's own
        # password change: neither is a staff action. (One's own email changes through
        # me/email/, never email_change_by_staff: refused on oneself, tested here.)
        if row.values[1:] not in {("erase", "self"), ("set_password", "self")}
    ],
)
def test_the_services(actor_role: str, action: str, target_role: str) -> None:
    given = scene(actor_role, action, target_role)
    before = state(given.target)
    expected = allowed(actor_role, action, target_role)

    if expected:
        service_call(given.actor, action, given.target)
    else:
        with pytest.raises(ApplicationError) as refused:
            service_call(given.actor, action, given.target)
        assert refused.value.code == "permission_denied"

    check_outcome(given, action, expected=expected, before=before)


@pytest.mark.parametrize(
    ("actor_role", "action", "target_role"),
    [
        row
        for row in allowed_rows(SERVICE_ACTIONS)
        if row.values[1:] not in {("erase", "self"), ("set_password", "self")}
    ],
)
def test_the_services_without_a_second_factor_in_the_session(
    actor_role: str, action: str, target_role: str
) -> None:
    """The services assert the same: an actor from a password-only API session is
    refused ``mfa_setup_required`` by every staff service."""
    given = scene(actor_role, action, target_role)
    session, _ = session_create(user=given.actor, client=SYSTEM, amr=AMR_PASSWORD)
    acting = authenticated_user(session.pk, given.actor.pk)
    assert acting is not None
    acting.session_amr = AMR_PASSWORD  # as the API's authentication sets it
    before = state(given.target)

    with pytest.raises(ApplicationError) as refused:
        service_call(acting, action, given.target)

    assert refused.value.code == "mfa_setup_required"
    check_outcome(given, action, expected=False, before=before)


# --- manage.py: the system actor --------------------------------------------------------


def command_call(action: str, target: User, *extra: str) -> None:
    if action == "ban":
        call_command("ban", target.username, "--reason", "spam", *extra, verbosity=0)
    elif action == "unban":
        call_command("unban", target.username, *extra, verbosity=0)
    else:
        call_command("set_roles", target.username, *wanted_roles(target), verbosity=0)


@pytest.mark.parametrize("target_role", ROLES)
@pytest.mark.parametrize("action", ["ban", "unban", "set_roles"])
def test_the_commands_act_on_anyone_as_the_system(
    action: str, target_role: str
) -> None:
    account("superadmin", "keeper")  # the target is not the last superadmin
    target = account(target_role, "target")
    if action == "unban":
        Ban.objects.create(user=target, reason="earlier")

    before = state(target)

    command_call(action, target)

    assert took_effect(action, target, before)
    event = AuditEvent.objects.get(kind=AUDITED_AS[action], target=target)
    assert event.actor is None
    assert (event.ip, event.user_agent) == (SYSTEM.ip, SYSTEM.user_agent)


@pytest.mark.parametrize(
    ("command", "arguments", "action"),
    [
        ("ban", ["--reason", "spam"], "ban"),
        ("set_roles", ["admin"], "demote"),
    ],
)
def test_the_last_superadmin_stays_unless_forced(
    command: str, arguments: list[str], action: str
) -> None:
    only = account("superadmin", "only")
    banned = account("superadmin", "banned")
    Ban.objects.create(user=banned, reason="cannot sign in, so does not count")
    before = state(only)

    with pytest.raises(CommandError, match="last superadmin"):
        call_command(command, only.username, *arguments, verbosity=0)
    assert state(only) == before

    call_command(command, only.username, *arguments, "--force", verbosity=0)
    if action == "ban":
        assert Ban.objects.filter(user=only).in_force().exists()
    else:
        assert list(only.groups.values_list("name", flat=True)) == ["admin"]


def test_force_is_for_the_system_only() -> None:
    first, second = account("superadmin", "first"), account("superadmin", "second")
    Ban.objects.create(user=second, reason="cannot sign in")

    with pytest.raises(ApplicationError) as refused:
        roles_set(
            user_id=first.pk, actor=first, roles=["admin"], client=SYSTEM, force=True
        )

    assert refused.value.code == "conflict"
    assert first.groups.filter(name="superadmin").exists()


# --- what a refusal says ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor_role", "status"), [("user", 403), ("moderator", 404), ("admin", 404)]
)
@pytest.mark.parametrize(
    "call",
    [
        lambda client, user: client.post(f"{user}ban/", {"reason": "x"}),
        lambda client, user: client.patch(user, {"bio": "x"}),
        lambda client, user: client.delete(user),
    ],
    ids=["ban", "patch", "delete"],
)
def test_an_unknown_account_is_404_for_staff_who_may_take_the_action(
    actor_role: str, status: int, call: Callable[[APIClient, str], Any]
) -> None:
    """Non-staff are refused before any lookup (403 whatever the id); staff see every
    account, so 404 means there is none -- unless their role cannot take the action at
    all (a moderator erasing): 403 before the lookup too."""
    actor = account(actor_role, "actor")
    client = APIClient()
    client.default_format = "json"
    client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + session_create(user=actor, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR)[
            1
        ].access
    )

    response = call(client, f"/api/v1/users/{uuid.uuid4()}/")

    erasing = response.request["REQUEST_METHOD"] == "DELETE"
    expected = 403 if erasing and actor_role == "moderator" else status
    assert response.status_code == expected


# --- API keys (apikeys): revoking someone's key, making a global one -------------------


@pytest.mark.parametrize(
    ("actor_role", "target_role"),
    [("user", "self"), ("tester", "self"), *pairs()],
    ids=lambda value: value,
)
def test_revoking_an_api_key_through_the_api(actor_role: str, target_role: str) -> None:
    from apikeys.models import ApiKey
    from apikeys.services import api_key_create

    given = scene(actor_role, "revoke_api_key", target_role)
    key, _ = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=given.target.pk,
        name="k",
        scopes=None,
        expires_at=None,
        client=SYSTEM,
    )
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + session_create(
            user=given.actor, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR
        )[1].access
    )

    response = client.delete(f"/api/v1/api-keys/{key.pk}/")

    if allowed(actor_role, "revoke_api_key", target_role):
        assert response.status_code == 204, response.content
        assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
        assert AuditEvent.objects.filter(
            kind=AuditKind.API_KEY_REVOKED, actor=given.actor, target=given.target
        ).exists()
    else:
        # Staff see every key: refused 403; anyone else is told there is none.
        expected = 403 if actor_role in STAFF else 404
        assert response.status_code == expected, response.content
        assert ApiKey.objects.get(pk=key.pk).revoked_at is None


@pytest.mark.parametrize("actor_role", ROLES)
def test_making_and_revoking_a_global_api_key_through_the_api(actor_role: str) -> None:
    from apikeys.models import ApiKey
    from apikeys.services import api_key_create

    actor = account(actor_role, "actor")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + session_create(user=actor, client=SYSTEM, amr=AMR_PASSWORD_AND_SECOND_FACTOR)[
            1
        ].access
    )
    existing, _ = api_key_create(
        actor=SYSTEM_ACTOR,
        owner_id=None,
        name="svc",
        scopes=["users:read"],
        expires_at=None,
        client=SYSTEM,
    )

    made = client.post(
        "/api/v1/api-keys/",
        {"name": "svc", "global": True, "scopes": ["tokens:introspect"]},
        format="json",
    )
    revoked = client.delete(f"/api/v1/api-keys/{existing.pk}/")

    if allowed(actor_role, "create_global_api_key", "nobody"):
        assert (made.status_code, revoked.status_code) == (201, 204)
        assert ApiKey.objects.filter(user=None, revoked_at=None).count() == 1
    else:
        assert made.status_code == 403
        assert revoked.status_code == (403 if actor_role in STAFF else 404)
        assert ApiKey.objects.filter(user=None, revoked_at=None).count() == 1
