"""Reads of the accounts app."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, TypeGuard, cast

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Exists, F, OrderBy, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from guardian.shortcuts import get_user_perms

from accounts.models import (
    BLOCKED_FROM_PROFILE,
    AuthSession,
    Ban,
    InvalidEmailAddress,
    RecoveryCode,
    SessionUser,
    TOTPAuthenticator,
    User,
    canonical_email,
    login_lookup,
)
from accounts.roles import roles_of
from config.aggregates import GroupConcat
from config.error_codes import ApplicationError

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class ProfileAnnotations(TypedDict):
    """What :func:`profile_annotations` adds to each row."""

    profile_email_verified: bool
    profile_group_names: str | None
    profile_has_unlifted_ban: bool
    profile_mfa_enabled: bool


# A user loaded with profile_annotations(). django-stubs infers annotations from keyword
# arguments only, so the selectors that annotate with **profile_annotations() say so.
ProfiledUser: TypeAlias = "WithAnnotations[User, ProfileAnnotations]"


class StaffListAnnotations(ProfileAnnotations):
    banned: bool


# A user of the staff list (users_for_staff).
StaffListedUser: TypeAlias = "WithAnnotations[User, StaffListAnnotations]"


def profile_annotations(*, through: str | None = None) -> dict[str, Any]:
    """What a profile needs beyond the user row, as subqueries of the same query:
    ``profile_email_verified`` and ``profile_group_names`` (comma-joined). ``through`` names
    the foreign key to the user when the queryset is not of users (``"user"``)."""
    user_id = OuterRef(f"{through}_id" if through else "pk")
    email = OuterRef(f"{through}__email" if through else "email")
    verified = EmailAddress.objects.filter(user_id=user_id, email=email, verified=True)
    group_names = (
        Group.objects.filter(user=user_id)
        .values("user")
        .annotate(names=GroupConcat("name"))
        .values("names")
    )
    second_factor = Q(user=user_id, confirmed=True)
    return {
        "profile_email_verified": Exists(verified),
        "profile_group_names": Subquery(group_names),
        # Not time-dependent (login's lookup SQL is compiled once): a ban not lifted may
        # still have ended; ban_in_force() decides, only for users that have one.
        "profile_has_unlifted_ban": Exists(
            Ban.objects.filter(user=user_id, lifted_at__isnull=True)
        ),
        "profile_mfa_enabled": Exists(TOTPAuthenticator.objects.filter(second_factor))
        | Exists(EmailDevice.objects.filter(second_factor)),
    }


def has_profile_annotations(user: User) -> TypeGuard[ProfiledUser]:
    return hasattr(user, "profile_email_verified")


def group_names_of(annotated: str | None) -> list[str]:
    return [name for name in (annotated or "").split(",") if name]


_LOOKUP_PLACEHOLDER = "\x00login\x00"


@cache
def _login_lookup_sql(field: str, vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL of the profile-annotated lookup of a user by ``field``, compiled once per
    database backend. Building it is most of the lookup's cost (3.2 ms against 0.9 ms for
    the query itself, measured), and login runs it on every attempt."""
    query = User.objects.annotate(**profile_annotations()).filter(
        **{field: _LOOKUP_PLACEHOLDER}
    )[:1]
    return query.query.sql_with_params()


def user_by_login(login: str) -> ProfiledUser | None:
    """The account a login name designates, with its profile annotations: an email if it
    has an ``@`` (usernames never do), else a username; both are stored in one folded
    form (``models.login_lookup``), compared exactly, so case never matters."""
    lookup = login_lookup(login)
    if lookup is None:
        return None
    field, value = lookup
    sql, params = _login_lookup_sql(field, connection.vendor)
    bound = [value if param == _LOOKUP_PLACEHOLDER else param for param in params]
    user = next(iter(User.objects.raw(sql, bound)), None)
    return cast("ProfiledUser | None", user)


def user_by_email(email: str) -> User | None:
    """The account whose stored (canonical) address is ``email``'s canonical form."""
    try:
        return User.objects.filter(email=canonical_email(email)).first()
    except InvalidEmailAddress:
        return None


def sessions_live(*, user: User) -> QuerySet[AuthSession]:
    return AuthSession.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at", "-created_at")


def user_profile(user: User) -> dict[str, Any]:
    """The full profile of ``user`` as Python values (a UUID, datetimes), which
    ``accounts.serializers.UserProfileSerializer`` renders. From the request's cached
    snapshot when there is one (no query), else from the database."""
    if isinstance(user, SessionUser):
        snapshot = user.snapshot
        email_verified = snapshot["email_verified"]
        roles = user.roles
        mfa_enabled = snapshot["mfa_enabled"]
    else:
        group_names: Iterable[str]
        if has_profile_annotations(user):
            email_verified = user.profile_email_verified
            group_names = group_names_of(user.profile_group_names)
            mfa_enabled = user.profile_mfa_enabled
        else:
            mfa_enabled = bool(mfa_methods(user)) if user.pk else False
            email_verified = EmailAddress.objects.filter(
                user=user, email=user.email, verified=True
            ).exists()
            group_names = user.groups.values_list("name", flat=True) if user.pk else []
        roles = roles_of(group_names, is_superuser=user.is_superuser)
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "email_verified": email_verified,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "bio": user.bio,
        "phone": user.phone,
        "timezone": user.timezone,
        "language": user.language,
        "avatar_url": None,
        "roles": roles,
        "mfa_enabled": mfa_enabled,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def mfa_methods(user: User) -> list[str]:
    """The second factors ``user`` can sign in with, in the contract's order."""
    methods = []
    if TOTPAuthenticator.objects.filter(user=user, confirmed=True).exists():
        methods.append("totp")
    if (
        settings.MFA_EMAIL_ENABLED
        and EmailDevice.objects.filter(user=user, confirmed=True).exists()
    ):
        methods.append("email")
    if methods and RecoveryCode.objects.filter(device__user=user).exists():
        methods.append("recovery_code")
    return methods


def mfa_status(user: User) -> dict[str, object]:
    return {
        "totp": TOTPAuthenticator.objects.filter(user=user, confirmed=True).exists(),
        "email": EmailDevice.objects.filter(user=user, confirmed=True).exists(),
        "recovery_codes_remaining": RecoveryCode.objects.filter(
            device__user=user
        ).count(),
    }


def ban_in_force(user: User) -> Ban | None:
    return Ban.objects.filter(user=user).in_force().order_by("-created_at").first()


STAFF_ORDERINGS = ("username", "email", "date_joined", "last_login")


def user_with_profile(user_id: Any) -> ProfiledUser:
    """The account ``user_id`` with its profile annotations; ``404 not_found`` when there is
    none. Who may see it is the view's object permission (``accounts.permissions``)."""
    user = User.objects.annotate(**profile_annotations()).filter(pk=user_id).first()
    if user is None:
        raise ApplicationError("not_found", "No such user.")
    return cast("ProfiledUser", user)


def is_blocked_by(viewer: User, profile: User) -> bool:
    """Whether ``profile``'s owner blocked ``viewer``: one query on guardian's direct table
    (the viewer's own object permissions on the profile; groups do not block)."""
    return BLOCKED_FROM_PROFILE in get_user_perms(viewer, profile)


# Up to this many matches, a searched page is sorted from the matches themselves; past it,
# the database walks the ordering's index. See StaffUserList.
SORT_MATCHES_UP_TO = 200_000


class StaffUserList:
    """The staff list, for Django's paginator (``count()`` and slicing): ``COUNT`` first,
    then the page, planned with what the count tells.

    Why: for a page of a search, PostgreSQL picks between walking the ordering's index until
    a page of matches turns up (best when matches are many and spread out) and collecting
    every match through the search indexes and sorting them (best when they are few). It
    cannot know that prefix matches lie together in username order: at 1,000,000 accounts
    it walked 988,889 rows (0.65 s) for ``member_99``, whose 11,111 matches sort last; their
    sort takes 48 ms. Knowing the count, up to ``SORT_MATCHES_UP_TO`` matches are sorted
    (an ordering key no index serves), and broader searches are left to the index walk
    (3 ms for a term matching nearly everyone, against 0.4-0.7 s to sort it).
    """

    def __init__(
        self, users: QuerySet[StaffListedUser], *, ordering: str, searched: bool
    ) -> None:
        self.users = users.order_by(ordering, "pk")
        self.ordering = ordering
        self.searched = searched
        self.matches: int | None = None

    def count(self) -> int:
        self.matches = self.users.count()
        return self.matches

    def __len__(self) -> int:
        return self.count() if self.matches is None else self.matches

    def __getitem__(self, page: slice) -> list[StaffListedUser]:
        users = self.users
        if self.searched and (self.matches or 0) <= SORT_MATCHES_UP_TO:
            users = users.order_by(_sort_key(self.ordering), "pk")
        return list(users[page])


def _sort_key(ordering: str) -> OrderBy:
    """``ordering`` as a key the planner cannot read from an index, so it sorts the
    matches: COALESCE(x, x) is x, and NULLs sort where they would for ``ordering``."""
    field = ordering.removeprefix("-")
    key = Coalesce(F(field), F(field))
    return key.desc() if ordering.startswith("-") else key.asc()


def users_for_staff(
    *,
    search: str = "",
    role: str | None = None,
    is_active: bool | None = None,
    is_banned: bool | None = None,
    ordering: str = "username",
) -> StaffUserList:
    """Every account, for staff: searched by username, email or display name (prefix on
    the first two, which their pattern indexes serve; any part of the display name, which
    its trigram index serves on PostgreSQL), filtered and ordered."""
    users = cast(
        "QuerySet[StaffListedUser]",
        User.objects.annotate(
            **profile_annotations(),
            banned=Exists(Ban.objects.filter(user=OuterRef("pk")).in_force()),
        ),
    )
    if search:
        term = search.strip().lower()
        users = users.filter(
            Q(username__startswith=term)
            | Q(email__startswith=term)
            | Q(display_name__icontains=search.strip())
        )
    if role:
        # Exists, not a join + DISTINCT: DISTINCT over the annotated rows is costly.
        has_role: Exists | Q = Exists(
            User.groups.through.objects.filter(user=OuterRef("pk"), group__name=role)
        )
        if role == "superadmin":
            has_role |= Q(is_superuser=True)
        users = users.filter(has_role)
    if is_active is not None:
        users = users.filter(is_active=is_active)
    if is_banned is not None:
        users = users.filter(banned=is_banned)
    return StaffUserList(users, ordering=ordering, searched=bool(search.strip()))


def totp_pending(user: User) -> TOTPAuthenticator | None:
    """The user's authenticator app that awaits its first code (``services.mfa.totp_setup``
    keeps at most one), or ``None``."""
    return TOTPAuthenticator.objects.filter(user=user, confirmed=False).first()
