"""SQL statement budgets of the hot write paths (bench/ measures their speed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.test_me_hot_path import count_queries

pytestmark = pytest.mark.django_db(transaction=True)


def test_refresh_takes_at_most_four_statements(user: User, login: Callable) -> None:
    refresh = login(user)["refresh"]

    with count_queries() as statements:
        response = APIClient().post(
            "/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"
        )

    assert response.status_code == 200
    assert len(statements) <= 4, statements
