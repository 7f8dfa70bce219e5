"""Keys in emailed links are written as they are (issue 13): the verification key
(``MQ:1t…:…``) was percent-encoded (``MQ%3A…``), and the key a user copied from the link
was refused. ``email/verify/`` takes both forms; the frontend contract stays ``?key=``."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.emails.adapter import frontend_url
from accounts.models import User
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

PASSWORD = "amber meadows hum with sleepy bees"


def raw_parameter(path: str, parameter: str) -> str:
    """The parameter exactly as the link in the last email writes it, undecoded."""
    body = mail.outbox[-1].body
    match = re.search(rf"http://localhost:3000{path}\?{parameter}=(\S+)", body)
    assert match, body
    return match.group(1)


def register() -> None:
    response = APIClient().post(
        "/api/v1/auth/register/",
        {"username": "grace", "email": "grace@example.com", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201


def verify(key: str):
    return APIClient().post("/api/v1/auth/email/verify/", {"key": key}, format="json")


def test_the_verification_link_carries_the_key_as_it_is() -> None:
    register()

    key = raw_parameter("/verify-email", "key")

    assert "%" not in key
    assert ":" in key  # allauth's signed key: pk:timestamp:signature
    assert verify(key).status_code == 200


def test_a_percent_encoded_key_copied_from_an_older_link_still_verifies() -> None:
    register()
    encoded = quote(raw_parameter("/verify-email", "key"), safe="")
    assert "%3A" in encoded

    response = verify(encoded)

    assert response.status_code == 200
    assert User.objects.get(username="grace").emailaddress_set.get().verified


def test_the_reset_link_carries_the_token_as_it_is(user: User) -> None:
    APIClient().post(
        "/api/v1/auth/password/reset/", {"email": user.email}, format="json"
    )

    token = raw_parameter("/reset-password", "token")

    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": token, "new_password": PASSWORD},
        format="json",
    )
    assert response.status_code in (200, 204), response.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not user.check_password(DEFAULT_PASSWORD)


def test_frontend_links_encode_what_a_query_value_cannot_hold() -> None:
    assert (
        frontend_url("/verify-email", key="MQ:1t:ab_c-d")
        == "http://localhost:3000/verify-email?key=MQ:1t:ab_c-d"
    )
    assert (
        frontend_url("/x", next="a b&c=d") == "http://localhost:3000/x?next=a+b%26c%3Dd"
    )
