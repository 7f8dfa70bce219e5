"""The whole journey a frontend makes: register, verify, log in, me, refresh, log out."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.helpers import bearer, verification_key

pytestmark = pytest.mark.django_db

PASSWORD = "violet lanterns drift over quiet harbours"


def test_register_verify_login_me_refresh_logout() -> None:
    client = APIClient()

    # register
    response = client.post(
        "/api/v1/auth/register/",
        {"username": "ada", "email": "Ada@Example.com", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201, response.json()
    registered = response.json()["user"]
    assert registered["username"] == "ada"
    assert registered["email"] == "ada@example.com"
    assert registered["email_verified"] is False
    assert registered["display_name"] == "ada"
    assert registered["roles"] == ["user"]
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]

    # verify
    response = client.post(
        "/api/v1/auth/email/verify/", {"key": verification_key(message)}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["user"]["email_verified"] is True

    # log in with the email, in another case
    response = client.post(
        "/api/v1/auth/login/",
        {"login": "ADA@example.com", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response["Cache-Control"] == "no-store"
    login = response.json()
    assert set(login) == {"access", "refresh", "user", "mfa_required", "device_token"}
    assert login["mfa_required"] is False  # tells the tokens from the MFA challenge
    assert login["user"]["last_login"] is not None

    # me
    response = bearer(login["access"]).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json()["id"] == registered["id"]
    assert response.json()["email_verified"] is True

    # refresh: a new pair; the old refresh token is spent
    response = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": login["refresh"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response["Cache-Control"] == "no-store"
    refreshed = response.json()
    assert set(refreshed) == {"access", "refresh"}
    assert refreshed["refresh"] != login["refresh"]
    assert bearer(refreshed["access"]).get("/api/v1/users/me/").status_code == 200

    # log out: both access tokens of the session stop working at once
    response = client.post(
        "/api/v1/auth/logout/", {"refresh": refreshed["refresh"]}, format="json"
    )
    assert response.status_code == 204
    for access in (login["access"], refreshed["access"]):
        response = bearer(access).get("/api/v1/users/me/")
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"
    response = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": refreshed["refresh"]}, format="json"
    )
    assert response.status_code == 401
