"""``GET users/me/activity/``: the caller's own security timeline."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.activity import describe_event
from accounts.constants import AuditKind
from accounts.models import AuditEvent, User
from accounts.services.audit import audit_record
from config.client import ClientInfo
from tests.helpers import bearer

pytestmark = pytest.mark.django_db

ACTIVITY_URL = "/api/v1/users/me/activity/"


def fail_login(user: User, **headers: str) -> None:
    response = APIClient().post(
        "/api/v1/auth/login/",
        {"login": user.username, "password": "not the password"},
        format="json",
        **headers,
    )
    assert response.status_code == 401


@pytest.fixture
def timeline(user: User, login: Callable) -> APIClient:
    """Signed in twice, a failed attempt, signed out everywhere, signed in again: five
    events, of which the last sign-in's client is returned."""
    first = login(user, HTTP_USER_AGENT="Firefox")
    login(user, HTTP_USER_AGENT="Safari")
    fail_login(user, HTTP_USER_AGENT="curl/8.0")
    response = bearer(first["access"]).post("/api/v1/auth/logout/all/")
    assert response.status_code == 204
    return bearer(login(user, HTTP_USER_AGENT="Firefox")["access"])


def test_activity_lists_the_callers_events_newest_first(timeline: APIClient) -> None:
    response = timeline.get(ACTIVITY_URL)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["count"] == 5
    assert [(item["kind"], item["description"]) for item in body["results"]] == [
        (AuditKind.LOGIN_SUCCEEDED, "Signed in"),
        (AuditKind.SESSIONS_REVOKED_ALL, "Signed out everywhere (2 sessions)"),
        (AuditKind.LOGIN_FAILED, "Failed sign-in attempt"),
        (AuditKind.LOGIN_SUCCEEDED, "Signed in"),
        (AuditKind.LOGIN_SUCCEEDED, "Signed in"),
    ]
    failed = body["results"][2]
    assert set(failed) == {
        "id",
        "kind",
        "description",
        "ip",
        "user_agent",
        "created_at",
    }
    assert failed["ip"] == "127.0.0.1"
    assert failed["user_agent"] == "curl/8.0"
    assert failed["created_at"].endswith("Z")
    created = [item["created_at"] for item in body["results"]]
    assert created == sorted(created, reverse=True)


def test_activity_is_paginated(timeline: APIClient) -> None:
    everything = timeline.get(ACTIVITY_URL).json()["results"]

    first = timeline.get(ACTIVITY_URL, {"page_size": 2}).json()
    second = timeline.get(ACTIVITY_URL, {"page_size": 2, "page": 2}).json()
    last = timeline.get(ACTIVITY_URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert "page_size=2" in first["next"]
    assert second["previous"] is not None
    assert last["next"] is None
    assert [
        item["id"] for item in first["results"] + second["results"] + last["results"]
    ] == [item["id"] for item in everything]


def test_page_size_is_capped_at_100(user: User, user_client: APIClient) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(kind=AuditKind.LOGIN_FAILED, target=user) for _ in range(105)
    )

    body = user_client.get(ACTIVITY_URL, {"page_size": 500}).json()

    assert body["count"] == 106  # and the sign-in of user_client
    assert len(body["results"]) == 100


def test_a_page_past_the_end_is_not_found(user_client: APIClient) -> None:
    response = user_client.get(ACTIVITY_URL, {"page": 9})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_activity_filters_by_kind(timeline: APIClient) -> None:
    body = timeline.get(ACTIVITY_URL, {"kind": AuditKind.LOGIN_FAILED}).json()

    assert body["count"] == 1
    assert body["results"][0]["kind"] == AuditKind.LOGIN_FAILED


def test_an_unknown_kind_is_a_validation_error(user_client: APIClient) -> None:
    response = user_client.get(ACTIVITY_URL, {"kind": "no.such_kind"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "kind" in response.json()["errors"]


def test_activity_never_shows_another_users_events(
    user: User, other_user: User, login: Callable
) -> None:
    # Given the other user's sign-in and failed attempt, and an event our user caused on
    # the other's account (a staff action)
    login(other_user)
    fail_login(other_user)
    audit_record(
        kind=AuditKind.PROFILE_UPDATED,
        client=ClientInfo(ip="203.0.113.9", user_agent="UserBrowser"),
        actor=user,
        target=other_user,
        payload={"fields": ["bio"]},
    )
    mine = login(user)

    body = bearer(mine["access"]).get(ACTIVITY_URL).json()

    assert body["count"] == 1
    assert body["results"][0]["kind"] == AuditKind.LOGIN_SUCCEEDED
    their_ids = {
        str(pk)
        for pk in AuditEvent.objects.filter(target=other_user).values_list(
            "pk", flat=True
        )
    }
    assert not their_ids & {item["id"] for item in body["results"]}


def test_where_another_person_acted_from_is_not_shown(
    user: User, other_user: User, user_client: APIClient
) -> None:
    # A staff member signed the user out everywhere: the event is the user's, but the
    # staff member's address and browser are not.
    audit_record(
        kind=AuditKind.SESSIONS_REVOKED_ALL,
        client=ClientInfo(ip="198.51.100.77", user_agent="StaffBrowser/1.0"),
        actor=other_user,
        target=user,
        payload={"sessions": 1, "reason": "account_deactivated"},
    )

    [latest, _sign_in] = user_client.get(ACTIVITY_URL).json()["results"]

    assert latest["description"] == (
        "Signed out everywhere (1 session; account deactivated)"
    )
    assert latest["ip"] is None
    assert latest["user_agent"] == ""


@pytest.mark.parametrize(
    ("kind", "payload", "description"),
    [
        (AuditKind.LOGIN_SUCCEEDED, {"session": "a-session-id"}, "Signed in"),
        (AuditKind.LOGIN_FAILED, {}, "Failed sign-in attempt"),
        (
            AuditKind.SESSIONS_REVOKED_ALL,
            {"sessions": 3, "reason": "logout_all"},
            "Signed out everywhere (3 sessions)",
        ),
        (
            AuditKind.SESSION_REVOKED,
            {"session": "a-session-id", "reason": "revoked"},
            "Session revoked",
        ),
        (
            AuditKind.LOGOUT,
            {"session": "a-session-id", "reason": "logout"},
            "Signed out",
        ),
        (
            AuditKind.TOKEN_REUSE_DETECTED,
            {"session": "a-session-id"},
            "A spent refresh token was reused: that session was signed out",
        ),
        (
            AuditKind.PROFILE_UPDATED,
            {"fields": ["bio", "display_name", "unknown_field"]},
            "Profile updated: bio, display name, unknown_field",
        ),
        (
            AuditKind.EMAIL_VERIFIED,
            {"email": "ada@example.com"},
            "Email address verified: ada@example.com",
        ),
        (
            AuditKind.EMAIL_CHANGE_REQUESTED,
            {"new_email": "new@example.com"},
            "Email address change requested: new@example.com",
        ),
        (
            AuditKind.EMAIL_CHANGED,
            {"from": "old@example.com", "to": "new@example.com"},
            "Email address changed: old@example.com to new@example.com",
        ),
        (
            AuditKind.USER_DELETED,
            {"by_staff": True},
            "Account deleted (by a staff member)",
        ),
        (AuditKind.USER_DELETED, {"by_staff": False}, "Account deleted"),
        ("kind.removed_since", {}, "kind.removed_since"),
        (AuditKind.LOGIN_FAILED, ["not", "a", "dict"], "Failed sign-in attempt"),
    ],
)
def test_descriptions(kind: str, payload: object, description: str) -> None:
    assert describe_event(AuditEvent(kind=kind, payload=payload)) == description


def test_activity_needs_authentication(db: None) -> None:
    response = APIClient().get(ACTIVITY_URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
