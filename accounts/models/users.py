"""Users: the account itself, its manager, and the read-only user of a cached session."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any, ClassVar

import idna
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from accounts.constants import roles_of
from accounts.validators import (
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    USERNAME_RULE,
    validate_language,
    validate_timezone,
    validate_username,
)


def normalize_username(username: str) -> str:
    """Usernames are compared case-insensitively, so they are stored folded to lowercase."""
    return unicodedata.normalize("NFKC", username).strip().lower()


class InvalidEmailAddress(ValueError):
    """An address that has no canonical form (see :func:`canonical_email`)."""


INVALID_EMAIL_MESSAGE = "Enter a valid email address."


def _fold_case(text: str) -> str:
    """NFKC, case folding, NFKC again: folding can undo the normalisation (black-letter
    H, U+210C, is H after NFKC; sharp s folds to ss). The result is a fixed point:
    folding it again changes nothing (checked over every code point, and random strings
    of cased and combining characters)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def canonical_email(address: str) -> str:
    """The one form in which an address is stored and compared: equal canonical forms
    are the same account, and every lookup compares them exactly.

    The whole address is NFKC-normalised (full-width letters and at sign become ASCII)
    and split at its last ``@``. The local part is case-folded (the long s, U+017F,
    folds to s; the sharp s to ss) and must then be ASCII, as Django's validator means
    it to be: its case-insensitive pattern lets the long s, the Kelvin sign and the
    dotted and dotless i through. The domain is encoded with IDNA (UTS 46, the ``idna``
    package: ``bücher.example`` is ``xn--bcher-kva.example``), or kept as an address
    literal (``[192.0.2.1]``), and lowercased. Raises ``InvalidEmailAddress`` when there
    is no such form (no ``@``, an empty part, a local part that stays non-ASCII, a
    domain IDNA refuses)."""
    address = unicodedata.normalize("NFKC", address).strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmailAddress(address)
    local = _fold_case(local)
    if not local.isascii():
        raise InvalidEmailAddress(address)
    if domain.startswith("[") and domain.endswith("]") and domain.isascii():
        return f"{local}@{domain.lower()}"
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise InvalidEmailAddress(address) from None
    return f"{local}@{domain.lower()}"


def validate_canonical_email(value: str) -> None:
    """The model's check that an address has a canonical form (which ``clean`` stores)."""
    try:
        canonical_email(value)
    except InvalidEmailAddress:
        raise ValidationError(INVALID_EMAIL_MESSAGE, code="invalid") from None


def normalize_email(email: str) -> str:
    """The canonical form of ``email`` (:func:`canonical_email`), or, for an address that
    has none, the address stripped: the model's validation then refuses it."""
    try:
        return canonical_email(email)
    except InvalidEmailAddress:
        return email.strip()


def login_lookup(login: str) -> tuple[str, str] | None:
    """The field a login name designates and the stored value to compare exactly: the
    email's canonical form if the name has an ``@`` (usernames never do), else the folded
    username. ``None`` when it is an address no account can have."""
    login = unicodedata.normalize("NFKC", login).strip()
    if "@" not in login:
        return ("username", normalize_username(login))
    try:
        return ("email", canonical_email(login))
    except InvalidEmailAddress:
        return None


class UserManager(DjangoUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return normalize_email(email or "")

    def get_by_natural_key(self, username: str | None) -> User:
        # Stored usernames are lowercase, so any casing the user types finds the account.
        return self.get(username=normalize_username(username or ""))

    def _create_user(
        self,
        username: str,
        email: str | None,
        password: str | None,
        **extra_fields: Any,
    ) -> User:
        extra_fields.setdefault("display_name", normalize_username(username))
        # Django's private _create_user (behind create_user and create_superuser) is not
        # in django-stubs.
        return super()._create_user(username, email, password, **extra_fields)  # type: ignore[misc]


class User(AbstractUser):
    """A person with an account.

    The primary key is a UUID: no sequential id ever appears in a URL or body. ``username``
    (3 to 32 lowercase letters, digits, underscores) and ``email`` are unique; the database
    enforces both. The email is stored in its canonical form (:func:`canonical_email`), so
    lookups compare it exactly. Whether an address is verified lives in allauth's
    ``EmailAddress``, never here.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(
        "username",
        max_length=USERNAME_MAX_LENGTH,
        unique=True,
        validators=[validate_username],
        help_text="3 to 32 characters: lowercase letters, digits and underscores.",
        error_messages={"unique": "This username is taken."},
    )
    # Stored in its canonical form (canonical_email), so every comparison is equality.
    email = models.EmailField(
        "email address", max_length=254, validators=[validate_canonical_email]
    )
    display_name = models.CharField(
        max_length=64, blank=True, help_text="Defaults to the username."
    )
    bio = models.CharField(max_length=500, blank=True)
    phone = models.CharField(
        max_length=32, blank=True, help_text="E.164, e.g. +33612345678."
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    language = models.CharField(
        max_length=16, default="en", validators=[validate_language]
    )

    # Set whenever all of the account's sessions end (``sessions_revoke_all``): it is part
    # of the hash Django keeps in an admin (cookie) session, so those sessions end too.
    sessions_revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar[UserManager] = UserManager()

    # What a user may change about themselves (PATCH me/), in display order.
    PROFILE_FIELDS = (
        "display_name",
        "first_name",
        "last_name",
        "bio",
        "phone",
        "timezone",
        "language",
    )

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        ordering = ["username"]
        permissions = [
            ("ban_user", "Can ban and unban users"),
            ("change_role", "Can change users' roles"),
            # An object permission (django-guardian), never given to a role: see
            # ProfilePermission.
            ("blocked_from_profile", "Blocked from seeing this profile"),
        ]
        constraints = [
            # Stored addresses are canonical (lowercase ASCII), for which LOWER changes
            # nothing: this is exact uniqueness, and it still refuses a raw write that
            # differs from a stored address in case only.
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this email address already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(username__regex=USERNAME_PATTERN),
                name="accounts_user_username_format",
                violation_error_message=USERNAME_RULE,
            ),
            models.CheckConstraint(
                condition=~models.Q(email=""), name="accounts_user_email_present"
            ),
        ]
        indexes = [
            # The staff search matches username and email prefixes (LIKE 'term%'): on
            # PostgreSQL only a pattern-ops index serves that (a plain index elsewhere).
            # Django adds one for the unique username itself; the email needs its own.
            models.Index(
                fields=["email"],
                name="accounts_user_email_like",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["date_joined"], name="accounts_user_joined"),
            models.Index(fields=["last_login"], name="accounts_user_last_login"),
            # The list filters of the admin and the staff API, at 1,000,000 accounts: the
            # few inactive, staff or superuser accounts, and those of a language, come
            # from an index in username order (the lists' default), not from a scan of
            # every account (120-190 ms) that finds none.
            models.Index(
                fields=["username"],
                condition=models.Q(is_active=False),
                name="accounts_user_inactive",
            ),
            models.Index(
                fields=["username"],
                condition=models.Q(is_staff=True),
                name="accounts_user_staff",
            ),
            models.Index(
                fields=["username"],
                condition=models.Q(is_superuser=True),
                name="accounts_user_superuser",
            ),
            models.Index(
                fields=["language", "username"], name="accounts_user_language"
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @classmethod
    def normalize_username(cls, username: str) -> str:
        return normalize_username(username)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (an HMAC of the password hash), which its
        ``get_user`` compares on every request of a cookie session: here it covers
        ``sessions_revoked_at`` too, so revoking every session also signs the account out
        of the admin. ``update_session_auth_hash`` keeps one session across a change."""
        if self.sessions_revoked_at is None:  # as Django: sessions survive the upgrade
            # Django's private helper (behind get_session_auth_hash and its fallbacks
            # for SECRET_KEY_FALLBACKS) is not in django-stubs.
            return super()._get_session_auth_hash(secret)  # type: ignore[misc]
        key_salt = "accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.sessions_revoked_at.timestamp()}"
        return salted_hmac(
            key_salt, value, secret=secret, algorithm="sha256"
        ).hexdigest()

    def clean(self) -> None:
        super().clean()  # normalises username and email through the two functions above
        if not self.display_name:
            self.display_name = self.username


class SessionUser(User):
    """A user rebuilt from the cached snapshot: enough to answer and authorise a request.

    It never writes: a service that changes a user loads it from the database first.
    """

    class Meta:
        proxy = True

    snapshot: dict[str, Any]
    # What the request's session proved, from its access token (set by the API's
    # authentication): the RFC 8176 methods and when they were proved (epoch seconds).
    # The defaults prove nothing (``accounts.access.second_factor_proved``).
    session_amr: tuple[str, ...] = ()
    session_auth_time: int = 0
    # The scopes of the API key the request came with (set by ``apikeys``'
    # authentication), ``None`` for a session: a key carries the owner's staff powers
    # only with the ``admin`` scope (``accounts.access.powers_in_force``).
    api_key_scopes: tuple[str, ...] | None = None

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("A SessionUser is read-only: load the user to change it.")

    @property
    def email_verified(self) -> bool:
        return self.snapshot["email_verified"]

    @property
    def roles(self) -> list[str]:
        return roles_of(self.snapshot["groups"], is_superuser=self.is_superuser)
