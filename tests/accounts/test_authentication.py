"""``request.auth``: the access token's claims, shared by every request with the token
(verified once per process), so no request may change them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt
import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.authentication import SessionTokenAuthentication
from accounts.models import User


def authenticate(access: str) -> tuple[User, Mapping[str, Any]]:
    request = Request(
        APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {access}")
    )
    result = SessionTokenAuthentication().authenticate(request)
    assert result is not None
    return result


def test_the_claims_are_the_tokens_and_read_only(tokens: dict, user: User) -> None:
    _, claims = authenticate(tokens["access"])

    assert dict(claims) == jwt.decode(
        tokens["access"], options={"verify_signature": False}
    )
    assert claims["sub"] == str(user.pk)
    with pytest.raises(TypeError):
        claims["sub"] = "someone else"  # type: ignore[index]
    with pytest.raises(TypeError):
        del claims["sid"]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        claims.update(sub="someone else")  # type: ignore[attr-defined]


def test_two_requests_with_one_token_see_the_same_claims_whatever_one_tries(
    tokens: dict,
) -> None:
    _, first = authenticate(tokens["access"])
    with pytest.raises(TypeError):
        first["sid"] = "another session"  # type: ignore[index]

    _, second = authenticate(tokens["access"])

    assert second == first
    assert second["sid"] != "another session"


def test_the_claims_of_a_request_are_the_cached_ones_not_a_copy(tokens: dict) -> None:
    # The hot path: a token verified once answers every later request without copying.
    _, first = authenticate(tokens["access"])
    _, second = authenticate(tokens["access"])

    assert second is first


def test_an_api_view_sees_the_read_only_claims(user_client, tokens: dict) -> None:
    # sessions/ reads request.auth["sid"] to mark the current session
    response = user_client.get("/api/v1/auth/sessions/")

    assert response.status_code == 200
    [session] = response.json()["results"]
    assert session["current"] is True
