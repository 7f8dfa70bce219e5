"""Who may do what to whom: one table from action to rule, asked by every way in.

The API's permission classes and views, the admin's pages and actions, and ``manage.py``
commands ask this module before they act; the services assert it again on the row they
lock (``target_for(..., for_update=True)``), so no caller can get round it.

The rules (ranks, lowest first: user, tester, moderator, admin, superadmin; a Django
superuser is a superadmin):

=========================================  ==============  ==================================
action                                     lowest role     on whom
=========================================  ==============  ==================================
ban, unban, deactivate (and reactivate),   moderator       moderators: users and testers;
edit_profile, revoke_sessions                              admins and superadmins: anyone
                                                           below superadmin
erase, reset_mfa, set_password,            admin           anyone below superadmin
change_email
set_roles                                  superadmin      anyone, superadmins and
                                                           themselves included
ban_address (and lift an address ban)      moderator       no account: a client address
=========================================  ==============  ==================================

- **Nobody acts on themselves** through this table: a person's own account has its own
  endpoints (``PATCH me/``, ``DELETE me/``, ``sessions/``, ``mfa/``…). ``set_roles`` is the
  exception: a superadmin may give up the role while another superadmin remains.
- **Superadmins act on each other only through ``set_roles``**: to ban or erase one, demote
  them first (audited). The services keep at least one superadmin who can sign in: the
  last one cannot be demoted, banned or deactivated (``409 conflict``).
- **Who sees what**: staff (moderator and up, or the ``is_staff`` flag) see every account,
  so an unknown id is ``404 not_found``. A caller whose role cannot take the action at all
  is refused ``403 permission_denied`` before any lookup, whatever the id: the answer says
  nothing about which accounts exist. Staff who may see an account but not act on it get
  ``403 permission_denied``.
- **A role's powers are in force only in a session that passed a second factor**
  (with ``MFA_REQUIRED_FOR_STAFF`` on, the default outside ``DEBUG``): staff signed in
  with the password alone act and see as plain users do, and staff-only routes answer
  ``403 mfa_setup_required`` (``powers_in_force``). The second factor belongs to the
  session (the access token's ``amr``; django-otp's verification in the admin), not to
  the account: setting one up does not promote the session it was set up in.
- **An API key** acts as its owner, with the owner's role's powers only when the key
  has the ``admin`` scope (whatever ``MFA_REQUIRED_FOR_STAFF`` says): a key is no
  sign-in, but only staff whose powers were in force could give a key that scope.
- **``manage.py`` runs as** :data:`SYSTEM_ACTOR`: ops with a shell on the server, who may
  take every action on every account. Audit events record no actor and the
  :data:`config.client.SYSTEM` client. The one thing a command needs ``--force`` for is
  leaving no superadmin who can sign in (banning or demoting the last one).

Adding an action (``revoke_key``, ``delete_file``, ``toggle_flag``…) is a member of
:class:`Action` and a line in :data:`RULES`. For an object that belongs to a user (a key, a
file), the app loads the object and asks ``may(actor, action, owner)``; give the rule
``on_self=True`` when owners act on their own objects through it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeAlias

from django.conf import settings

from accounts.constants import AMR_MULTI_FACTOR, API_KEY_ADMIN_SCOPE
from accounts.models import SessionUser, User
from accounts.roles import RANK, ROLE_ORDER, Role, is_staff_member, rank_of
from config.error_codes import ApplicationError


class Action(StrEnum):
    BAN = "ban"
    UNBAN = "unban"
    DEACTIVATE = "deactivate"  # and reactivate: ``is_active`` either way
    EDIT_PROFILE = "edit_profile"
    REVOKE_SESSIONS = "revoke_sessions"
    ERASE = "erase"
    RESET_MFA = "reset_mfa"
    # The admin's password page (a name, not a password: hence the noqa).
    SET_PASSWORD = "set_password"  # noqa: S105
    SET_ROLES = "set_roles"
    # The verified email change, started by staff (the admin's user page).
    CHANGE_EMAIL = "change_email"
    # API keys (``apikeys``): a global service key (bound to no user) is made and revoked
    # by admins; another user's key is revoked by those who may end their sessions; a
    # key for another user is made by the system alone (``manage.py apikey``). Owners
    # make, list and revoke their own keys (``may_manage_api_keys_of``).
    CREATE_GLOBAL_API_KEY = "create_global_api_key"
    REVOKE_API_KEY = "revoke_api_key"
    CREATE_API_KEY = "create_api_key"
    # A key's own quota above its owner's role's limits (owners set theirs within them):
    # admins, on the keys of anyone they administer.
    SET_API_KEY_QUOTA = "set_api_key_quota"
    # Feature flags (``flags``): staff (moderator and up, API.md) list them and change
    # their rules; nobody acts on an account through them, so the rule has no target.
    CHANGE_FLAGS = "change_flags"
    # Files (``files``): owners delete their own; another user's file is deleted by staff
    # who may moderate that user (the admin, the API).
    DELETE_FILE = "delete_file"
    # Avatars (``files``): a user sets and removes their own; those who may moderate
    # the account remove someone else's (an offensive picture). Nobody sets another's.
    REMOVE_AVATAR = "remove_avatar"
    # Address bans (``limits``): staff who may ban accounts bar an anonymous client's
    # address, and lift such a ban (automatic or not); no account is its target.
    BAN_ADDRESS = "ban_address"


@dataclass(frozen=True)
class Rule:
    """``reach`` maps an acting role to the highest role it may act on; a role not listed
    has the reach of the nearest listed role below it, and roles below the lowest listed
    one may not take the action. ``permission`` is the Django model permission that
    stands for the action (``roles_sync`` gives it to every role that may take it, so
    ``user.has_perm`` agrees with this table)."""

    reach: Mapping[Role, Role]
    on_self: bool = False
    permission: str | None = None


# Moderators on users and testers; admins (and superadmins) on anyone below superadmin.
MODERATION: Final = {Role.MODERATOR: Role.TESTER, Role.ADMIN: Role.ADMIN}
# Admins (and superadmins) on anyone below superadmin.
ADMINISTRATION: Final = {Role.ADMIN: Role.ADMIN}

RULES: Final[Mapping[Action, Rule]] = {
    Action.BAN: Rule(MODERATION, permission="accounts.ban_user"),
    Action.UNBAN: Rule(MODERATION, permission="accounts.ban_user"),
    Action.DEACTIVATE: Rule(MODERATION, permission="accounts.change_user"),
    Action.EDIT_PROFILE: Rule(MODERATION, permission="accounts.change_user"),
    Action.REVOKE_SESSIONS: Rule(MODERATION, permission="accounts.change_authsession"),
    Action.ERASE: Rule(ADMINISTRATION, permission="accounts.delete_user"),
    Action.RESET_MFA: Rule(ADMINISTRATION),
    Action.SET_PASSWORD: Rule(ADMINISTRATION),
    Action.CHANGE_EMAIL: Rule(ADMINISTRATION),
    Action.CREATE_GLOBAL_API_KEY: Rule(ADMINISTRATION),
    Action.REVOKE_API_KEY: Rule(MODERATION),
    # Nobody but the system: a person acting through a key of someone else's making.
    Action.CREATE_API_KEY: Rule({}),
    Action.SET_API_KEY_QUOTA: Rule(ADMINISTRATION),
    Action.CHANGE_FLAGS: Rule(MODERATION, permission="flags.change_flag"),
    Action.DELETE_FILE: Rule(MODERATION, permission="files.delete_storedfile"),
    Action.REMOVE_AVATAR: Rule(MODERATION),
    Action.BAN_ADDRESS: Rule(MODERATION),
    Action.SET_ROLES: Rule(
        {Role.SUPERADMIN: Role.SUPERADMIN},
        on_self=True,
        permission="accounts.change_role",
    ),
}


class SystemActor:
    """The actor of ``manage.py`` commands and jobs: no person, every action allowed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SYSTEM_ACTOR"


SYSTEM_ACTOR: Final = SystemActor()

Actor: TypeAlias = User | SystemActor


def person(actor: Actor) -> User | None:
    """The user to record as the actor (audit events, ``Ban.created_by``): ``None`` for
    the system."""
    return None if isinstance(actor, SystemActor) else actor


def _reach(rule: Rule, actor_rank: int) -> int | None:
    """The highest rank ``rule`` lets an actor of ``actor_rank`` act on, or ``None``."""
    for role in reversed(ROLE_ORDER[: actor_rank + 1]):
        if role in rule.reach:
            return RANK[rule.reach[role]]
    return None


def second_factor_proved(user: User) -> bool:
    """Whether the sign-in ``user`` is acting through passed a second factor.

    An API request: its access token's ``amr`` (``SessionUser.session_amr``, set by the
    API's authentication) includes ``"mfa"``. An admin (cookie) request: django-otp
    verified a device in that session (``OTPMiddleware`` gives the user ``is_verified``).
    A user that code loaded itself, acting through no sign-in at all (a service calling
    another), is not judged here: only the ways in above carry a session.
    """
    if isinstance(user, SessionUser):
        return AMR_MULTI_FACTOR in user.session_amr
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified):
        return bool(is_verified())
    return True


def powers_in_force(actor: Actor) -> bool:
    """Whether ``actor``'s role's powers are in force in this sign-in: with
    ``MFA_REQUIRED_FOR_STAFF`` on, only in one that passed a second factor. Having a
    factor is not enough: a session signed in with the password alone stays a plain
    user's session until its owner signs in again with the factor."""
    if isinstance(actor, SystemActor):
        return True
    if isinstance(actor, SessionUser) and actor.api_key_scopes is not None:
        # An API key is no sign-in and proves no second factor: it carries its owner's
        # powers only when made with the ``admin`` scope, which only staff with their
        # powers in force can give a key of theirs (``apikeys.services``).
        return API_KEY_ADMIN_SCOPE in actor.api_key_scopes
    if not settings.MFA_REQUIRED_FOR_STAFF:
        return True
    return second_factor_proved(actor)


def second_factor_required() -> ApplicationError:
    """The answer to staff whose session did not pass a second factor."""
    return ApplicationError(
        "mfa_setup_required",
        "Staff features need a sign-in with a second factor: set one up (auth/mfa/), "
        "or sign in again with it.",
    )


def role_takes(actor: Actor, action: Action) -> bool:
    """Whether ``actor``'s role takes ``action`` on anyone, powers in force or not."""
    if isinstance(actor, SystemActor):
        return True
    return _reach(RULES[action], rank_of(actor)) is not None


def may_take(actor: Actor, action: Action) -> bool:
    """Whether ``actor`` takes ``action`` on anyone at all: the check made before
    looking a target up (API permission classes, which admin actions are offered)."""
    return powers_in_force(actor) and role_takes(actor, action)


def acts_as_staff(actor: Actor) -> bool:
    """Staff whose powers are in force (``powers_in_force``): they see every account and
    every full profile. Staff in a session without a second factor see what users see."""
    if isinstance(actor, SystemActor):
        return True
    return is_staff_member(actor) and powers_in_force(actor)


def may_see(actor: Actor, target: User) -> bool:
    """Staff see every account; nobody else sees any through staff actions."""
    return acts_as_staff(actor)


def may(actor: Actor, action: Action, target: User) -> bool:
    """Whether ``actor`` may take ``action`` on ``target``: for lists and the admin."""
    if isinstance(actor, SystemActor):
        return True
    if not powers_in_force(actor):
        return False
    rule = RULES[action]
    if actor.pk == target.pk and not rule.on_self:
        return False
    highest = _reach(rule, rank_of(actor))
    return highest is not None and rank_of(target) <= highest


def refusal() -> ApplicationError:
    return ApplicationError(
        "permission_denied", "You do not have permission to perform this action."
    )


def check(actor: Actor, action: Action, target: User) -> None:
    """Raise ``403 permission_denied`` unless ``actor`` may take ``action`` on ``target``
    (who is already known to be visible to them); ``403 mfa_setup_required`` when their
    role could but the session passed no second factor."""
    if not powers_in_force(actor) and role_takes(actor, action):
        raise second_factor_required()
    if not may(actor, action, target):
        raise refusal()


def target_for(
    actor: Actor,
    action: Action | Collection[Action],
    user_id: uuid.UUID | str,
    *,
    for_update: bool = False,
) -> User:
    """The account ``user_id`` that ``actor`` is about to take ``action`` on (or each of
    several actions, as one staff update both edits and deactivates).

    Raises ``403 permission_denied`` when the actor's role cannot take the action at all
    and ``403 mfa_setup_required`` when it could but the session passed no second factor
    (both before any lookup), ``404 not_found`` when there is no such account or the
    actor may not see it, and ``403 permission_denied`` when they see it but may not act
    on it. Services pass ``for_update=True`` to lock the row they change.
    """
    actions = [action] if isinstance(action, Action) else list(action)
    if not all(role_takes(actor, each) for each in actions):
        raise refusal()
    if not powers_in_force(actor):
        raise second_factor_required()
    users = User.objects.select_for_update() if for_update else User.objects
    target = users.filter(pk=user_id).first()
    if target is None or not may_see(actor, target):
        raise ApplicationError("not_found", "No such user.")
    for each in actions:
        check(actor, each, target)
    return target


def model_permissions(role: Role) -> list[str]:
    """The model permissions standing for the actions ``role`` may take (see ``Rule``)."""
    return sorted(
        {
            rule.permission
            for rule in RULES.values()
            if rule.permission and _reach(rule, RANK[role]) is not None
        }
    )


# --- API keys --------------------------------------------------------------------------
# A key belongs to a user (``owner``) or, global, to nobody (``owner=None``).


def may_see_api_keys_of(actor: Actor, owner: User | None) -> bool:
    """Owners see their own keys; staff (powers in force) see every key, global ones
    included. Anyone else is answered ``404 not_found``."""
    if (
        owner is not None
        and not isinstance(actor, SystemActor)
        and actor.pk == owner.pk
    ):
        return True
    return acts_as_staff(actor)


def check_api_key_creation(actor: Actor, owner: User | None) -> None:
    """Raise unless ``actor`` may make a key for ``owner`` (``None``: a global key):
    their own, always; a global one, admins and up (``CREATE_GLOBAL_API_KEY``); anyone
    else's, the system only (``CREATE_API_KEY``)."""
    if owner is None:
        check_targetless(actor, Action.CREATE_GLOBAL_API_KEY)
    elif isinstance(actor, SystemActor) or actor.pk != owner.pk:
        check(actor, Action.CREATE_API_KEY, owner)


def check_api_key_revocation(actor: Actor, owner: User | None) -> None:
    """Raise unless ``actor`` may revoke a key of ``owner``, whom they may see
    (``may_see_api_keys_of``): their own, always; a global one, those who may make
    one; anyone else's, those who may end that user's sessions (``REVOKE_API_KEY``)."""
    if owner is None:
        check_targetless(actor, Action.CREATE_GLOBAL_API_KEY)
    elif isinstance(actor, SystemActor) or actor.pk != owner.pk:
        check(actor, Action.REVOKE_API_KEY, owner)


def may_set_any_api_key_quota(actor: Actor, owner: User | None) -> bool:
    """Whether ``actor`` may give a key of ``owner`` (``None``: a global key) any quota,
    above the owner's role's limits too: the system; admins (powers in force) on global
    keys, their own keys and those of users they administer (``SET_API_KEY_QUOTA``)."""
    if owner is None:
        return may_take(actor, Action.CREATE_GLOBAL_API_KEY)
    if not isinstance(actor, SystemActor) and actor.pk == owner.pk:
        return may_take(actor, Action.SET_API_KEY_QUOTA)
    return may(actor, Action.SET_API_KEY_QUOTA, owner)


def check_api_key_quota_change(actor: Actor, owner: User | None) -> None:
    """Raise unless ``actor`` may change the quota of a key of ``owner``, whom they may
    see (``may_see_api_keys_of``): their own, always (within their role's limits, which
    ``apikeys.services`` checks); a global one, those who may make one; anyone else's,
    admins (``SET_API_KEY_QUOTA``)."""
    if owner is None:
        check_targetless(actor, Action.CREATE_GLOBAL_API_KEY)
    elif isinstance(actor, SystemActor) or actor.pk != owner.pk:
        check(actor, Action.SET_API_KEY_QUOTA, owner)


# --- Avatars ---------------------------------------------------------------------------


def check_avatar_change(actor: Actor, owner: User) -> None:
    """Raise unless ``actor`` may upload ``owner``'s avatar: their own only."""
    if isinstance(actor, SystemActor) or actor.pk != owner.pk:
        raise refusal()


def check_avatar_removal(actor: Actor, owner: User) -> None:
    """Raise unless ``actor`` may remove ``owner``'s avatar: their own, always; anyone
    else's, those who may moderate them (``REMOVE_AVATAR``: an offensive picture)."""
    if isinstance(actor, SystemActor) or actor.pk != owner.pk:
        check(actor, Action.REMOVE_AVATAR, owner)


def check_targetless(actor: Actor, action: Action) -> None:
    """Raise unless ``actor`` may take ``action``, which concerns no account (changing
    a feature flag): ``403 permission_denied`` when their role cannot, ``403
    mfa_setup_required`` when it could but the session passed no second factor."""
    if not role_takes(actor, action):
        raise refusal()
    if not powers_in_force(actor):
        raise second_factor_required()


# --- Files -----------------------------------------------------------------------------
# A file belongs to its ``owner``; a sharee holds guardian's ``view`` or ``change``
# permission on it (``files.selectors`` reads them and passes what it found). Anyone who
# may not see a file is answered ``404 not_found``, as for a file that does not exist.


def _is_owner(actor: Actor, owner: User) -> bool:
    return not isinstance(actor, SystemActor) and actor.pk == owner.pk


def may_see_file(actor: Actor, owner: User, *, shared_with_actor: bool) -> bool:
    """Metadata and bytes: the owner, a sharee (either permission), staff with their
    powers in force (``acts_as_staff``)."""
    return _is_owner(actor, owner) or shared_with_actor or acts_as_staff(actor)


def may_edit_file(actor: Actor, owner: User, *, actor_may_change: bool) -> bool:
    """The description: the owner, and a sharee given ``change``. Staff who are neither
    see the file but do not edit what a user wrote about it."""
    return _is_owner(actor, owner) or actor_may_change


def may_share_file(actor: Actor, owner: User) -> bool:
    """Sharing and unsharing: the owner alone (a sharee never passes a file on)."""
    return _is_owner(actor, owner)


def may_delete_file(actor: Actor, owner: User) -> bool:
    """The owner, or whoever may take ``DELETE_FILE`` on the owner (moderators on
    users and testers, admins on anyone below superadmin; the system)."""
    return _is_owner(actor, owner) or may(actor, Action.DELETE_FILE, owner)


def check_file_deletion(actor: Actor, owner: User) -> None:
    """Raise unless ``actor``, who sees the file, may delete it (``may_delete_file``):
    ``403 permission_denied``, or ``403 mfa_setup_required`` for staff whose session
    passed no second factor."""
    if not _is_owner(actor, owner):
        check(actor, Action.DELETE_FILE, owner)
