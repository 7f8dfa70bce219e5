from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from accounts.crypto import encrypt_secret
from accounts.models import TOTPAuthenticator, User
from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache; on Redis only our key prefix is removed."""
    yield
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    """An active account with a verified email address and the password DEFAULT_PASSWORD."""
    account = UserFactory()
    EmailAddress.objects.create(
        user=account, email=account.email, primary=True, verified=True
    )
    return account


@pytest.fixture
def other_user(db: None) -> User:
    account = UserFactory()
    EmailAddress.objects.create(
        user=account, email=account.email, primary=True, verified=True
    )
    return account


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
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def tokens(user: User) -> dict:
    return log_in(user)


@pytest.fixture
def user_client(tokens: dict) -> APIClient:
    """An APIClient signed in as ``user`` through the real login endpoint."""
    return bearer(tokens["access"])


@pytest.fixture
def login() -> Callable[..., dict]:
    return log_in


def otp_verified_staff_client(username: str = "root") -> tuple[Client, User]:
    """A superuser with an authenticator app, signed in to the admin with its second
    factor (the session django-otp's middleware reads), as staff must be."""
    staff = User.objects.create_superuser(
        username, f"{username}@example.com", "admin password 123"
    )
    device = TOTPAuthenticator.objects.create(
        user=staff, name="app", confirmed=True, encrypted_key=encrypt_secret(b"0" * 20)
    )
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client, staff
