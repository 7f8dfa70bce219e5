"""Reads of the accounts app."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from functools import cache
from typing import (
    TYPE_CHECKING,
    Any,
    NoReturn,
    TypeAlias,
    TypedDict,
    TypeGuard,
    TypeVar,
    cast,
)

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache as django_cache
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Concat
from django.urls import NoReverseMatch, reverse
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
from accounts.roles import Role, roles_of
from config.aggregates import GroupConcat
from config.caching import best_effort
from config.error_codes import ApplicationError
from config.paginator import count_up_to, page_of

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
        "avatar_url": avatar_path(user.pk) if user.pk else None,
        "roles": roles,
        "mfa_enabled": mfa_enabled,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def avatar_path(user_id: Any) -> str | None:
    """The path of ``GET users/{id}/avatar/`` (the files app's route, named
    ``avatars:avatar``: accounts names it, never imports it). Every user has an avatar,
    generated when none was uploaded, so the URL needs no query; ``None`` only when the
    files app is not installed. Profiles render it absolute (``AvatarUrlField``)."""
    try:
        return reverse("avatars:avatar", kwargs={"user_id": user_id})
    except NoReverseMatch:
        return None


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


def user_with_profile(user_id: Any, *, stand_ins: bool = False) -> ProfiledUser:
    """The account ``user_id`` with its profile annotations; ``404 not_found`` when there is
    none. Who may see it is the view's object permission (``accounts.permissions``).
    ``stand_ins``: a remembered stand-in (``stand_in_user``) answers as its account
    would, for the answers anyone may read."""
    user = User.objects.annotate(**profile_annotations()).filter(pk=user_id).first()
    if user is None and stand_ins:
        return stand_in_user(user_id) or _no_such_user()
    if user is None:
        _no_such_user()
    return cast("ProfiledUser", user)


def _no_such_user() -> NoReturn:
    raise ApplicationError("not_found", "No such user.")


def stand_in_key(user_id: Any) -> str:
    return f"registration:stand_in:{user_id}"


def stand_in_user(user_id: Any) -> ProfiledUser | None:
    """The stand-in account a sign-up with a taken address answered with, while it is
    remembered (``services.registration``): its public answers (profile, avatar) must
    be those of the new account it pretends to be, or its id would tell that the
    address had an account. Never saved; ``None`` once forgotten."""
    remembered = best_effort(
        lambda: django_cache.get(stand_in_key(user_id)),
        default=None,
        what="reading a stand-in account",
    )
    if remembered is None:
        return None
    stand_in = User(
        id=user_id,
        username=remembered["username"],
        email=remembered["email"],
        display_name=remembered["display_name"],
        date_joined=remembered["date_joined"],
    )
    # What a new account's profile says (see ``user_profile``): the ``user`` role, an
    # unverified address, no second factor, no ban.
    stand_in.profile_email_verified = False  # type: ignore[attr-defined]
    stand_in.profile_group_names = Role.USER.value  # type: ignore[attr-defined]
    stand_in.profile_has_unlifted_ban = False  # type: ignore[attr-defined]
    stand_in.profile_mfa_enabled = False  # type: ignore[attr-defined]
    return cast("ProfiledUser", stand_in)


def is_blocked_by(viewer: User, profile: User) -> bool:
    """Whether ``profile``'s owner blocked ``viewer``: one query on guardian's direct table
    (the viewer's own object permissions on the profile; groups do not block)."""
    return BLOCKED_FROM_PROFILE in get_user_perms(viewer, profile)


# Up to this many matches, a searched page is sorted from the matches themselves; past it,
# the database walks the ordering's index. See StaffUserList.
SORT_MATCHES_UP_TO = 200_000


class StaffUserList:
    """The staff list, for ``config.pagination.CappedCountPaginator``: a count up to a
    limit (``count_up_to``), then the page (slicing), planned with what the count tells.

    Why: for a page of a search, PostgreSQL picks between walking the ordering's index until
    a page of matches turns up (best when matches are many and spread out) and collecting
    every match through the search indexes and sorting them (best when they are few). It
    cannot know that prefix matches lie together in username order: at 1,000,000 accounts
    it walked 988,889 rows (0.65 s) for ``member_99``, whose 11,111 matches sort last; their
    sort takes 48 ms. Knowing the count, up to ``SORT_MATCHES_UP_TO`` matches are sorted
    (an ordering key no index serves), and broader searches, and counts that stopped at
    their limit, are left to the index walk (3 ms for a term matching nearly everyone,
    against 0.4-0.7 s to sort it).
    """

    def __init__(
        self, users: QuerySet[StaffListedUser], *, ordering: str, searched: bool
    ) -> None:
        self.users = users.order_by(ordering, "pk")
        self.ordering = ordering
        self.searched = searched
        # How many matches there are, or are estimated to be when the count stopped.
        self.matches: int | None = None
        self.first_page: tuple[slice, list[StaffListedUser]] | None = None
        self.expected: slice | None = None

    def expect_slice(self, page: slice) -> None:
        """The page the paginator will ask for (``config.paginator``): a first page of
        a search that sorts its matches comes with their count, in one query."""
        self.expected = page

    def count_up_to(self, limit: int) -> int:
        matches = self.users.order_by().values("pk")
        # A search's plan hangs on how many it matches, which the planner estimates.
        estimate = estimated_rows(matches) if self.searched else 0
        page = self.expected
        if (
            self.searched
            and page is not None
            and not page.start
            and estimate <= SORT_MATCHES_UP_TO
        ):
            # Sorting every match materialises them all: counting them in the same
            # query (COUNT(*) OVER ()) is nearly free, and saves reading them twice
            # (a query of 20-30 ms for member_99's 11,111 matches).
            ranked = list(
                self.users.annotate(matches_total=Window(Count("pk"))).order_by(
                    sort_key(self.ordering), "pk"
                )[page]
            )
            self.matches = ranked[0].matches_total if ranked else 0
            self.first_page = (page, cast("list[StaffListedUser]", ranked))
            return self.matches
        counted = count_up_to(matches, limit)
        self.matches = counted
        if counted == limit and self.searched:
            # Stopped at the limit: the estimate tells a few thousand matches (sort
            # them) from most of the table (walk the index).
            self.matches = max(limit, estimate)
        return counted

    def __getitem__(self, page: slice) -> list[StaffListedUser]:
        if self.first_page and self.first_page[0].start == page.start:
            return self.first_page[1][: (page.stop or 0) - (page.start or 0)]
        users = self.users
        if self.searched and (self.matches or 0) <= SORT_MATCHES_UP_TO:
            users = users.order_by(sort_key(self.ordering), "pk")
        return list(page_of(users, page.start or 0, page.stop))


def estimated_rows(rows: QuerySet[Any]) -> int:
    """How many rows PostgreSQL's planner expects ``rows`` to have (``EXPLAIN``: no rows
    are read); 0 elsewhere."""
    if connection.vendor != "postgresql":
        return 0
    plan = json.loads(rows.explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def sorts_matches(matches: QuerySet[Any]) -> bool:
    """Whether a searched list's page is best sorted from its matches (up to
    ``SORT_MATCHES_UP_TO`` by the planner's estimate) rather than read from the ordering's
    index: ``StaffUserList``'s choice, for lists that are not counted first (the
    admin's)."""
    return estimated_rows(matches.order_by().values("pk")) <= SORT_MATCHES_UP_TO


def sort_key(ordering: str) -> OrderBy:
    """``ordering`` as a key the planner cannot read from an index, so it sorts the
    matches: COALESCE(x, x) is x, and NULLs sort where they would for ``ordering``."""
    field = ordering.removeprefix("-")
    key = Coalesce(F(field), F(field))
    return key.desc() if ordering.startswith("-") else key.asc()


# A word of a search found in at least this share of display names (in PostgreSQL's
# statistics sample) is not looked up in the trigram index: see user_search.
COMMON_WORD_SHARE = 0.05
_SAMPLE_SECONDS = 600.0
_display_name_sample: tuple[float, tuple[str, ...]] = (-_SAMPLE_SECONDS, ())


def users_with_second_factor() -> QuerySet[Any]:
    """The ids of accounts with a confirmed second factor, as one subquery: a filter on
    it joins from these few rows, where ``profile_mfa_enabled`` (two ``EXISTS`` per row,
    or-ed) would be checked on every account."""
    return (
        TOTPAuthenticator.objects.filter(confirmed=True)
        .values("user_id")
        .union(EmailDevice.objects.filter(confirmed=True).values("user_id"))
    )


def display_names_sampled() -> tuple[str, ...]:
    """Display names (upper-cased) from the statistics ANALYZE keeps on the trigram
    index's expression: its histogram bounds and most common values, about 100 names
    spread over the table. Read once per ``_SAMPLE_SECONDS`` per process; empty when
    there are none (no ANALYZE yet, or not PostgreSQL)."""
    global _display_name_sample
    fetched_at, names = _display_name_sample
    if time.monotonic() - fetched_at < _SAMPLE_SECONDS:
        return names
    names = ()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT histogram_bounds::text::text[], most_common_vals::text::text[] "
                "FROM pg_stats WHERE schemaname = current_schema() AND tablename = %s",
                [DISPLAY_NAME_TRIGRAM_INDEX],
            )
            names = tuple(
                name for row in cursor.fetchall() for part in row for name in part or ()
            )
    _display_name_sample = (time.monotonic(), names)
    return names


def _display_name_contains(term: str) -> Q:
    """Display names containing ``term`` (case-insensitive), in a form the trigram index
    serves cheaply.

    The index finds rows holding all of the pattern's trigrams; each trigram that most
    display names share costs a read of its whole posting list (at 1,000,000 accounts each
    is about 170 pages: 20 ms for ``member_12345`` against seed names "Member N …", 1 ms for
    ``12345`` alone). So when some words of the term are common (in the statistics'
    sample) and others are not, the index is asked for the uncommon words only, and the
    whole term is checked on the rows it finds, through an expression the index does not
    cover. Same matches, fewer pages.
    """
    words = [word for word in re.findall(r"[^\W_]+", term) if len(word) >= 3]
    sample = display_names_sampled()
    if not words or not sample:
        return Q(display_name__icontains=term)
    rare = [
        word
        for word in words
        if sum(word.upper() in name for name in sample) / len(sample)
        < COMMON_WORD_SHARE
    ]
    if not rare or len(rare) == len(re.findall(r"[^\W_]+", term)):
        return Q(display_name__icontains=term)
    probe = Q()
    for word in rare:
        probe &= Q(display_name__icontains=word)
    return probe & Q(display_name_unindexed__icontains=term)


DISPLAY_NAME_TRIGRAM_INDEX = "accounts_user_display_name_trgm"  # migration 0010
_Users = TypeVar("_Users", bound="QuerySet[Any]")


def user_search(users: _Users, search: str) -> _Users:
    """``users`` whose username or email starts with ``search`` (their pattern indexes
    serve that), or whose display name contains it (the trigram index, on PostgreSQL):
    the staff list's search and the admin's."""
    term = search.strip()
    if not term:
        return users
    return users.alias(
        # Equal to display_name, but not the trigram index's expression: the planner
        # checks it row by row instead of asking the index (_display_name_contains).
        display_name_unindexed=Concat("display_name", Value("")),
    ).filter(
        Q(username__startswith=term.lower())
        | Q(email__startswith=term.lower())
        | _display_name_contains(term)
    )


def users_for_staff(
    *,
    search: str = "",
    role: str | None = None,
    is_active: bool | None = None,
    is_banned: bool | None = None,
    ordering: str = "username",
) -> StaffUserList:
    """Every account, for staff: searched by username, email or display name
    (``user_search``), filtered and ordered."""
    users = cast(
        "QuerySet[StaffListedUser]",
        User.objects.annotate(
            **profile_annotations(),
            banned=Exists(Ban.objects.filter(user=OuterRef("pk")).in_force()),
        ),
    )
    users = user_search(users, search)
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
