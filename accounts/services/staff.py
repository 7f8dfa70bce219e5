"""The first staff member: a superadmin made on the server (``manage.py
bootstrap_superadmin``, and Django's own ``createsuperuser``).

Whoever runs these commands has a shell on the server, so the address they type counts as
verified: with ``ACCOUNT_EMAIL_VERIFICATION=mandatory`` a superadmin made there could
otherwise never sign in to the API (no verification email is ever sent to an account that
did not sign up). The second factor is not set here: the admin asks for it at the first
sign-in (``accounts.admin_site``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.constants import AuditKind, RevokeReason
from accounts.models import (
    INVALID_EMAIL_MESSAGE,
    InvalidEmailAddress,
    User,
    canonical_email,
    normalize_username,
)
from accounts.roles import Role
from accounts.services.audit import audit_record
from accounts.services.password import password_history_record
from accounts.services.sessions import sessions_revoke_all
from accounts.validators import validate_username
from config.client import ClientInfo

EMAIL_TAKEN = "This address belongs to another account."


@dataclass
class BootstrapResult:
    """What ``superadmin_bootstrap`` did: ``created`` a new account, or brought an
    existing one up to a superadmin (``changes``, empty when it already was one)."""

    user: User
    created: bool
    changes: list[str] = field(default_factory=list)


def _validated_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None


@transaction.atomic
def superuser_address_verify(*, user: User, client: ClientInfo) -> bool:
    """Mark the address of a superadmin made on the server verified and primary (allauth's
    ``EmailAddress``), audited as ``email.verified`` by the system. Returns whether
    anything changed: an address already verified is left alone."""
    address = EmailAddress.objects.filter(user=user, email=user.email).first()
    if address is not None and address.verified and address.primary:
        return False
    EmailAddress.objects.filter(user=user, primary=True).exclude(
        email=user.email
    ).update(primary=False)
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    audit_record(
        kind=AuditKind.EMAIL_VERIFIED,
        client=client,
        target=user,
        payload={"email": user.email, "by": "server"},
    )
    return True


@transaction.atomic
def superadmin_bootstrap(
    *,
    username: str,
    email: str,
    password: str | None,
    client: ClientInfo,
    reset_password: bool = False,
) -> BootstrapResult:
    """Make sure ``username`` is a superadmin who can sign in; safe to run again.

    A new account needs ``email`` and ``password``; the password policy applies (a field
    error under ``password``). An existing one becomes superuser and staff if it was not,
    keeps its email and its password (unless ``reset_password``), and its address is
    marked verified. Audited with the system as actor."""
    username = normalize_username(username)
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        return _superadmin_create(
            username=username, email=email, password=password, client=client
        )
    result = BootstrapResult(user=user, created=False)
    if not (user.is_superuser and user.is_staff):
        user.is_superuser = user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
        audit_record(
            kind=AuditKind.ROLES_CHANGED,
            client=client,
            target=user,
            payload={"superuser": True, "by": "server"},
        )
        result.changes.append("made superuser and staff")
    if reset_password:
        if not password:
            raise ValidationError({"password": ["A new password is needed."]})
        _validated_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
        password_history_record(user=user, encoded_password=user.password)
        sessions_revoke_all(
            user=user,
            reason=RevokeReason.PASSWORD_CHANGED,
            client=client,
            audit=False,
        )
        audit_record(
            kind=AuditKind.PASSWORD_CHANGED,
            client=client,
            target=user,
            payload={"by_staff": True, "usable": True},
        )
        result.changes.append("password reset")
    if superuser_address_verify(user=user, client=client):
        result.changes.append("email address marked verified")
    return result


def _superadmin_create(
    *, username: str, email: str, password: str | None, client: ClientInfo
) -> BootstrapResult:
    try:
        validate_username(username)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from None
    try:
        email = canonical_email(email)
    except InvalidEmailAddress:
        raise ValidationError({"email": [INVALID_EMAIL_MESSAGE]}) from None
    if not password:
        raise ValidationError({"password": ["A password is needed."]})
    user = User(username=username, email=email, display_name=username)
    _validated_password(password, user)
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": [EMAIL_TAKEN]})
    user = User.objects.create_superuser(
        username, email, password, display_name=username
    )
    user.groups.add(Group.objects.get_or_create(name=Role.USER)[0])
    password_history_record(user=user, encoded_password=user.password)
    audit_record(
        kind=AuditKind.USER_REGISTERED,
        client=client,
        target=user,
        payload={"superuser": True, "by": "server"},
    )
    superuser_address_verify(user=user, client=client)
    return BootstrapResult(user=user, created=True)
