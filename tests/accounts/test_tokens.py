"""Token handling an attacker would probe: types, algorithms, keys, query strings, races."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable

import jwt
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuthSession, User
from tests.helpers import bearer

pytestmark = pytest.mark.django_db


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def assert_token_invalid(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_invalid"


def test_access_token_carries_the_session_and_is_short_lived(
    tokens: dict, user: User
) -> None:
    claims = claims_of(tokens["access"])

    assert claims["token_type"] == "access"
    assert claims["sub"] == str(user.pk)
    assert AuthSession.objects.filter(pk=claims["sid"], user=user).exists()
    assert claims["exp"] - claims["iat"] == 300


def test_a_refresh_token_is_not_an_access_token(tokens: dict) -> None:
    assert_token_invalid(bearer(tokens["refresh"]).get("/api/v1/users/me/"))


def test_an_access_token_is_not_a_refresh_token(tokens: dict) -> None:
    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["access"]}, format="json"
    )

    assert_token_invalid(response)


def _forge(claims: dict, key: str, algorithm: str) -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def test_alg_none_is_refused(tokens: dict) -> None:
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "none", "typ": "JWT"}).encode()
    )
    payload = base64.urlsafe_b64encode(json.dumps(claims_of(tokens["access"])).encode())
    unsigned = f"{header.decode().rstrip('=')}.{payload.decode().rstrip('=')}."

    assert_token_invalid(bearer(unsigned).get("/api/v1/users/me/"))


def test_another_algorithm_with_the_right_key_is_refused(tokens: dict) -> None:
    forged = _forge(
        claims_of(tokens["access"]), settings.SIMPLE_JWT["SIGNING_KEY"], "HS512"
    )

    assert_token_invalid(bearer(forged).get("/api/v1/users/me/"))


def test_a_token_signed_with_a_foreign_key_is_refused(tokens: dict) -> None:
    forged = _forge(claims_of(tokens["access"]), "not-our-key-" * 6, "HS256")

    assert_token_invalid(bearer(forged).get("/api/v1/users/me/"))


def test_a_token_with_another_users_subject_is_refused(
    tokens: dict, other_user: User
) -> None:
    claims = {**claims_of(tokens["access"]), "sub": str(other_user.pk)}
    forged = _forge(claims, settings.SIMPLE_JWT["SIGNING_KEY"], "HS256")
    # Even correctly signed (a leaked key), a sub/sid mismatch finds no session.
    assert_token_invalid(bearer(forged).get("/api/v1/users/me/"))


def test_a_token_with_another_users_subject_is_refused_once_its_session_is_cached(
    tokens: dict, other_user: User
) -> None:
    assert bearer(tokens["access"]).get("/api/v1/users/me/").status_code == 200
    claims = {**claims_of(tokens["access"]), "sub": str(other_user.pk)}
    forged = _forge(claims, settings.SIMPLE_JWT["SIGNING_KEY"], "HS256")

    assert_token_invalid(bearer(forged).get("/api/v1/users/me/"))


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_name_is_case_insensitive(tokens: dict, scheme: str) -> None:
    # RFC 7235, section 2.1.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {tokens['access']}")

    assert client.get("/api/v1/users/me/").status_code == 200


def test_another_authorization_scheme_is_left_to_others(tokens: dict) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNzd29yZA==")

    # Not ours to refuse: the request is anonymous, as without the header.
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert client.get("/api/v1/config/").status_code == 200


def test_expired_access_tokens_are_refused(tokens: dict, time_machine) -> None:
    client = bearer(tokens["access"])
    # verified once, then served from the per-process cache of verified tokens
    assert client.get("/api/v1/users/me/").status_code == 200

    time_machine.move_to(claims_of(tokens["access"])["exp"] + 1)

    assert_token_invalid(bearer(tokens["access"]).get("/api/v1/users/me/"))


def test_tokens_are_never_read_from_the_query_string(tokens: dict) -> None:
    client = APIClient()

    for name in ("token", "access_token", "access", "jwt"):
        response = client.get("/api/v1/users/me/", {name: tokens["access"]})
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db(transaction=True)  # threads on their own connections
@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite has no concurrent writers to race"
)
def test_two_concurrent_refreshes_with_one_token_give_at_most_one_success(
    user: User, login: Callable
) -> None:
    refresh = login(user)["refresh"]
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def spend() -> None:
        barrier.wait()
        response = APIClient().post(
            "/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses).count(200) <= 1
    assert set(statuses) <= {200, 401}
