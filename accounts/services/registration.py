"""Sign-up and email verification, on django-allauth's ``EmailAddress`` and its mails.

allauth's APIs that take a request get the one in ``allauth.core.context`` (its middleware
sets it around every view); outside a request (a command, a job) it is ``None``, which the
project's ``AccountAdapter`` copes with.
"""

from __future__ import annotations

import uuid
from urllib.parse import unquote

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress, get_emailconfirmation_model
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.constants import AuditKind
from accounts.models import (
    INVALID_EMAIL_MESSAGE,
    InvalidEmailAddress,
    User,
    canonical_email,
    normalize_username,
)
from accounts.roles import Role
from accounts.selectors import ProfileAnnotations, stand_in_key
from accounts.services.audit import audit_record
from accounts.services.password import password_history_record
from accounts.validators import validate_display_name, validate_username
from config.caching import best_effort
from config.client import ClientInfo
from config.error_codes import ApplicationError

USERNAME_TAKEN = "This username is taken."


def _username_reservation_key(username: str) -> str:
    return f"registration:username_reserved:{username}"


def _username_taken(username: str) -> bool:
    """An account has it, or a sign-up with an address that has an account reserved it."""
    reserved = best_effort(
        lambda: cache.get(_username_reservation_key(username)),
        default=None,
        what="reading a username reservation",
    )
    return reserved is not None or User.objects.filter(username=username).exists()


def _username_reserve(username: str) -> None:
    """Keep ``username`` taken after a sign-up that created nothing (its address has an
    account), as a real sign-up would have taken it.

    Without it, trying the same username again told the two apart (free: the address had
    an account; taken: it did not). It lasts as long as the verification link of a real
    sign-up (``ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS``): long enough that the probe
    costs days, short enough that sign-ups with someone else's address cannot squat
    names for good. A self-expiring marker, so it lives in the cache; an eviction only
    ends it sooner.
    """
    best_effort(
        lambda: cache.add(
            _username_reservation_key(username),
            1,
            settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS * 24 * 3600,
        ),
        default=False,
        what="reserving a username",
    )


def _stand_in_user(*, username: str, email: str, display_name: str) -> User:
    """What a sign-up with an address that already has an account answers with: shaped
    like a new account, so the answer reveals nothing. It is never saved."""
    stand_in = User(
        id=uuid.uuid4(),
        username=username,
        email=email,
        display_name=display_name or username,
        date_joined=timezone.now(),
    )
    # What a new account's profile says (see ``selectors.user_profile``): the ``user``
    # role, an unverified address, no second factor. Read from the database, the unsaved
    # stand-in would have no role at all, and ``roles: []`` told that the email existed.
    annotations: ProfileAnnotations = {
        "profile_email_verified": False,
        "profile_group_names": Role.USER.value,
        "profile_has_unlifted_ban": False,
        "profile_mfa_enabled": False,
    }
    for name, value in annotations.items():
        setattr(stand_in, name, value)
    return stand_in


def user_register(
    *,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    client: ClientInfo,
) -> User:
    """Create an account and send its verification email.

    A taken username is a field error (usernames are public). An email that already has an
    account gets the same answer as a new sign-up, no account is made, and the address's
    owner is told by email, as allauth does with enumeration prevention on; its username
    is reserved as if the account had been made, so trying it again tells nothing. The unique
    constraints decide races: of concurrent sign-ups one wins, the others get one of the
    two answers above, never a 500.
    """
    if not settings.REGISTRATION_OPEN:
        raise ApplicationError("registration_closed", "Registration is closed.")
    username = normalize_username(username)
    try:
        email = canonical_email(email)
    except InvalidEmailAddress:
        raise ValidationError({"email": [INVALID_EMAIL_MESSAGE]}) from None
    try:
        validate_username(username)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from None
    display_name = display_name.strip()
    if display_name:  # blank: the username, as on every account
        try:
            # The rule PATCH me/ applies: no control or bidi characters, and the
            # username's own spelling when DISPLAY_NAME_FREE is off.
            validate_display_name(display_name, username=username)
        except ValidationError as error:
            raise ValidationError({"display_name": error.messages}) from None
    candidate = User(
        username=username, email=email, display_name=display_name or username
    )
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from None

    if _username_taken(username):
        raise ValidationError({"username": [USERNAME_TAKEN]}, code="unique")
    if User.objects.filter(email=email).exists():
        return _register_existing_email(
            username=username,
            email=email,
            display_name=display_name,
            password=password,
            client=client,
        )
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username, email, password, display_name=display_name or username
            )
            user.groups.add(Group.objects.get_or_create(name=Role.USER)[0])
            password_history_record(user=user, encoded_password=user.password)
            address = EmailAddress.objects.create(
                user=user, email=email, primary=True, verified=False
            )
            audit_record(
                kind=AuditKind.USER_REGISTERED, client=client, actor=user, target=user
            )
            if settings.ACCOUNT_EMAIL_VERIFICATION != "none":
                address.send_confirmation(allauth_context.request, signup=True)
    except IntegrityError:
        if User.objects.filter(username=username).exists():
            raise ValidationError(
                {"username": [USERNAME_TAKEN]}, code="unique"
            ) from None
        return _register_existing_email(
            username=username,
            email=email,
            display_name=display_name,
            password=None,
            client=client,
        )
    return user


def _register_existing_email(
    *,
    username: str,
    email: str,
    display_name: str,
    password: str | None,
    client: ClientInfo,
) -> User:
    if password is not None:
        make_password(password)  # the same hashing time as a real sign-up
    owner = User.objects.filter(email=email).first()
    with transaction.atomic():
        audit_record(
            kind=AuditKind.REGISTRATION_DUPLICATE_EMAIL, client=client, target=owner
        )
        get_adapter().send_account_already_exists_mail(email)
    _username_reserve(username)
    stand_in = _stand_in_user(username=username, email=email, display_name=display_name)
    _stand_in_remember(stand_in)
    return stand_in


def _stand_in_remember(stand_in: User) -> None:
    """Remember the stand-in as long as its username is reserved, so that what anyone
    may read of an account by its id (the public profile, the avatar) answers for the
    stand-in's id as for a new account's (``selectors.stand_in_user``)."""
    best_effort(
        lambda: cache.set(
            stand_in_key(stand_in.pk),
            {
                "username": stand_in.username,
                "email": stand_in.email,
                "display_name": stand_in.display_name,
                "date_joined": stand_in.date_joined,
            },
            settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS * 24 * 3600,
        ),
        default=None,
        what="remembering a stand-in account",
    )


def _invalid_key() -> ApplicationError:
    return ApplicationError(
        "invalid_key", "This verification link is invalid, expired or already used."
    )


def email_verify(*, key: str, client: ClientInfo) -> User:
    """Confirm an address from the key in an emailed link (sign-up or email change).

    The key may come percent-encoded (``MQ%3A…``, as links sent before issue 13 carried
    it, copied as is): keys never hold a ``%``, so decoding changes no raw key."""
    confirmation = get_emailconfirmation_model().from_key(unquote(key))
    if confirmation is None or confirmation.email_address.verified:
        raise _invalid_key()
    previous_email = confirmation.email_address.user.email
    try:
        with transaction.atomic():
            # With ACCOUNT_CHANGE_EMAIL, confirming a new address makes it the account's
            # email, removes the old one and notifies it (allauth's email_changed mail).
            address = confirmation.confirm(allauth_context.request)
            if address is None:
                raise _invalid_key()
            user = User.objects.get(pk=address.user_id)
            audit_record(
                kind=AuditKind.EMAIL_VERIFIED,
                client=client,
                actor=user,
                target=user,
                payload={"email": address.email},
            )
            if user.email != previous_email:
                audit_record(
                    kind=AuditKind.EMAIL_CHANGED,
                    client=client,
                    actor=user,
                    target=user,
                    payload={"from": previous_email, "to": user.email},
                )
    except IntegrityError:
        raise ApplicationError(
            "conflict", "This address now belongs to another account."
        ) from None
    return user


def email_verification_resend(*, email: str) -> None:
    """Send a new verification link if ``email`` is an unverified address; else nothing.
    The caller answers 202 either way."""
    try:
        email = canonical_email(email)
    except InvalidEmailAddress:
        return
    address = EmailAddress.objects.filter(email=email, verified=False).first()
    if address is not None:
        address.send_confirmation(allauth_context.request, signup=False)
