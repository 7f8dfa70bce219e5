"""SQL statement budgets of the hot write paths (bench/ measures their speed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import count_queries

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")


def data_statements(statements: list[str]) -> list[str]:
    return [
        s for s in statements if not s.lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]


def test_refresh_takes_at_most_four_statements(user: User, login: Callable) -> None:
    refresh = login(user)["refresh"]

    with count_queries() as statements:
        response = APIClient().post(
            "/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"
        )

    assert response.status_code == 200
    assert len(data_statements(statements)) <= 4, statements


def test_login_takes_five_statements_beside_the_password_hash(user: User) -> None:
    with count_queries() as statements:
        response = APIClient().post(
            "/api/v1/auth/login/",
            {"login": user.username, "password": DEFAULT_PASSWORD},
            format="json",
        )

    assert response.status_code == 200
    # the user with its verified flag and roles; the session; the live sessions beyond
    # MAX_SESSIONS_PER_USER (none here); last_login; the audit event
    assert len(data_statements(statements)) == 5, statements
