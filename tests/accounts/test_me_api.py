"""``GET``/``PATCH users/me/``."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.api.serializers import UserProfileSerializer
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_me_answers_every_contract_field(user: User, user_client: APIClient) -> None:
    body = user_client.get("/api/v1/users/me/").json()

    assert set(body) == set(UserProfileSerializer().fields)
    assert body["id"] == str(user.pk)
    assert body["email_verified"] is True
    assert body["roles"] == []  # a factory user joined no role group
    assert body["date_joined"].endswith("Z")


def test_me_needs_authentication(db: None) -> None:
    response = APIClient().get("/api/v1/users/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_patch_changes_profile_fields(user: User, user_client: APIClient) -> None:
    response = user_client.patch(
        "/api/v1/users/me/",
        {"display_name": "Ada L.", "bio": "Engines.", "timezone": "Europe/London"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["display_name"] == "Ada L."
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.timezone) == (
        "Ada L.",
        "Engines.",
        "Europe/London",
    )
    # the cached snapshot was dropped: the next read shows the change
    assert user_client.get("/api/v1/users/me/").json()["timezone"] == "Europe/London"


@pytest.mark.parametrize(
    "field_value",
    [
        {"email": "new@example.com"},
        {"username": "renamed"},
        {"roles": ["superadmin"]},
        {"is_staff": True},
        {"is_superuser": True},
        {"is_active": False},
        {"id": "00000000-0000-0000-0000-000000000000"},
        {"password": "a new password nobody checked"},
    ],
)
def test_patch_refuses_fields_that_are_not_profile_fields(
    user: User, user_client: APIClient, field_value: dict
) -> None:
    before = User.objects.values().get(pk=user.pk)

    response = user_client.patch(
        "/api/v1/users/me/", {"display_name": "Sneaky", **field_value}, format="json"
    )

    assert response.status_code == 400
    [field] = field_value
    assert response.json()["errors"][field] == ["This field cannot be changed here."]
    assert User.objects.values().get(pk=user.pk) == before
    assert not user.groups.exists()


@pytest.mark.parametrize(
    ("field_value", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"language": "xx"}, "language"),
        ({"bio": "b" * 501}, "bio"),
        ({"display_name": ""}, "display_name"),
    ],
)
def test_patch_validates_values(
    user: User, user_client: APIClient, field_value: dict, field: str
) -> None:
    response = user_client.patch("/api/v1/users/me/", field_value, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
