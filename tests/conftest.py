from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import UserFactory
from tests.helpers import bearer, log_in


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
