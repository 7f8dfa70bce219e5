"""Helpers shared by test files: signing in, role accounts, counting queries, mail links.

Fixtures live in ``tests/conftest.py`` and factories in ``tests/factories.py``; a helper
that more than one test file needs lives here, never in a test file another one imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import unquote

from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from accounts.constants import AMR_PASSWORD, AMR_PASSWORD_AND_SECOND_FACTOR
from accounts.crypto import encrypt_secret
from accounts.models import TOTPAuthenticator, User
from accounts.selectors import mfa_methods
from tests.factories import DEFAULT_PASSWORD, UserFactory

STAFF_ROLES = frozenset({"moderator", "admin", "superadmin"})


# --- Signing in ------------------------------------------------------------------------------


def log_in(user: User, password: str = DEFAULT_PASSWORD, **headers: str) -> dict:
    """Sign in through the API; returns the login answer (access, refresh, user)."""
    response = APIClient().post(
        "/api/v1/auth/login/",
        {"login": user.username, "password": password},
        format="json",
        **headers,
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    """An APIClient that sends ``access`` as its bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def account(role: str | None = None, **fields: object) -> User:
    """A user with ``role`` (none: a plain user); staff roles get a confirmed authenticator
    app, since staff need a second factor (MFA_REQUIRED_FOR_STAFF) to use staff endpoints."""
    user = UserFactory(**fields)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        user.is_staff = role in STAFF_ROLES
        user.save()
        TOTPAuthenticator.objects.create(
            user=user,
            name="app",
            confirmed=True,
            encrypted_key=encrypt_secret(b"1" * 20),
        )
    return user


def client_for(user: User, amr: Sequence[str] | None = None) -> APIClient:
    """A session for ``user`` without the login's second step (its factor is a fixture):
    signed in as a login would (``amr``: with the second factor when the user has one,
    else with the password alone) unless ``amr`` says otherwise."""
    from accounts.services.sessions import session_create
    from config.client import SYSTEM

    return bearer(
        session_create(user=user, client=SYSTEM, amr=amr_of(user, amr))[1].access
    )


def amr_of(user: User, amr: Sequence[str] | None = None) -> Sequence[str]:
    """``amr``, or how a login of ``user`` signs in: with the second factor if they have
    one."""
    if amr is not None:
        return amr
    return AMR_PASSWORD_AND_SECOND_FACTOR if mfa_methods(user) else AMR_PASSWORD


def admin_client_for(user: User) -> Client:
    """An admin session for ``user`` with its second factor verified (the session
    django-otp's middleware reads), as staff must have; ``user`` has one device."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPAuthenticator.objects.get(
        user=user
    ).persistent_id
    session.save()
    return client


def otp_verified_staff_client(username: str = "root") -> tuple[Client, User]:
    """A superuser with an authenticator app, signed in to the admin with its second
    factor, as staff must be."""
    staff = User.objects.create_superuser(
        username, f"{username}@example.com", "admin password 123"
    )
    TOTPAuthenticator.objects.create(
        user=staff, name="app", confirmed=True, encrypted_key=encrypt_secret(b"0" * 20)
    )
    return admin_client_for(staff), staff


# --- Counting --------------------------------------------------------------------------------


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Every SQL statement run inside the block, transaction control included."""
    queries: list[str] = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield queries


# --- Links in account email ------------------------------------------------------------------


def link_parameter(message: mail.EmailMessage, path: str, parameter: str) -> str:
    """The ``parameter`` of the link to the frontend's ``path`` in ``message``, decoded as
    the frontend reads it from its query string."""
    match = re.search(
        rf"http://localhost:3000{re.escape(path)}\?{parameter}=([^\s\"<&]+)",
        message.body,
    )
    assert match, message.body
    return unquote(match.group(1))


def verification_key(message: mail.EmailMessage) -> str:
    return link_parameter(message, "/verify-email", "key")


def reset_token(message: mail.EmailMessage) -> str:
    return link_parameter(message, "/reset-password", "token")
