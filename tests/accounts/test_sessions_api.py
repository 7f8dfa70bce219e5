"""``sessions/`` and ``sessions/{id}/``, and purging dead sessions."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, AuthSession, User
from tests.helpers import bearer

pytestmark = pytest.mark.django_db


def test_sessions_list_the_callers_live_sessions_and_mark_the_current(
    user: User, other_user: User, login: Callable
) -> None:
    first = login(user, HTTP_USER_AGENT="Firefox")
    login(user, HTTP_USER_AGENT="Safari")
    login(other_user)

    response = bearer(first["access"]).get("/api/v1/auth/sessions/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {session["user_agent"] for session in body["results"]} == {
        "Firefox",
        "Safari",
    }
    [current] = [session for session in body["results"] if session["current"]]
    assert current["user_agent"] == "Firefox"
    assert set(current) == {
        "id",
        "created_at",
        "last_used_at",
        "ip",
        "user_agent",
        "current",
    }
    assert current["created_at"].endswith("Z")


def test_revoked_sessions_are_not_listed(user: User, login: Callable) -> None:
    keep, gone = login(user), login(user)
    APIClient().post(
        "/api/v1/auth/logout/", {"refresh": gone["refresh"]}, format="json"
    )

    body = bearer(keep["access"]).get("/api/v1/auth/sessions/").json()

    assert body["count"] == 1


def test_another_users_session_is_not_found_and_untouched(
    user: User, other_user: User, login: Callable
) -> None:
    mine = login(user)
    login(other_user)
    theirs = AuthSession.objects.get(user=other_user)

    response = bearer(mine["access"]).delete(f"/api/v1/auth/sessions/{theirs.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_an_unknown_session_is_not_found(user_client: APIClient) -> None:
    assert (
        user_client.delete(f"/api/v1/auth/sessions/{uuid.uuid4()}/").status_code == 404
    )


def test_logout_works_with_a_dead_access_token_in_the_header(
    user: User, login: Callable
) -> None:
    session = login(user)
    APIClient().post(
        "/api/v1/auth/logout/", {"refresh": session["refresh"]}, format="json"
    )
    again = login(user)

    # The client still sends the first session's (revoked) access token out of habit.
    response = bearer(session["access"]).post(
        "/api/v1/auth/logout/", {"refresh": again["refresh"]}, format="json"
    )

    assert response.status_code == 204
    assert bearer(again["access"]).get("/api/v1/users/me/").status_code == 401


def test_logging_out_twice_with_one_refresh_token_is_401(
    user: User, login: Callable
) -> None:
    session = login(user)
    client = APIClient()
    assert (
        client.post(
            "/api/v1/auth/logout/", {"refresh": session["refresh"]}, format="json"
        ).status_code
        == 204
    )

    again = client.post(
        "/api/v1/auth/logout/", {"refresh": session["refresh"]}, format="json"
    )

    assert again.status_code == 401
    assert again.json()["code"] == "token_invalid"
    assert AuditEvent.objects.filter(kind="session.logout", target=user).count() == 1


def test_staff_cannot_end_a_session_that_has_ended(user: User, login: Callable) -> None:
    # The admin lists live sessions; one may end before the staff member's action runs.
    from accounts.access import SYSTEM_ACTOR
    from accounts.services.moderation import session_revoke_by_staff
    from config.client import SYSTEM
    from config.error_codes import ApplicationError

    session = login(user)
    APIClient().post(
        "/api/v1/auth/logout/", {"refresh": session["refresh"]}, format="json"
    )
    ended = AuthSession.objects.get(user=user)

    with pytest.raises(ApplicationError) as refused:
        session_revoke_by_staff(actor=SYSTEM_ACTOR, session_id=ended.pk, client=SYSTEM)

    assert refused.value.code == "not_found"
    ended.refresh_from_db()
    assert ended.revoke_reason == "logout"


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c"])
def test_logout_with_an_invalid_refresh_token_is_401(db: None, refresh: str) -> None:
    response = APIClient().post(
        "/api/v1/auth/logout/", {"refresh": refresh}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_sessions_need_authentication(db: None) -> None:
    assert APIClient().get("/api/v1/auth/sessions/").status_code == 401


def test_purge_sessions_deletes_expired_and_long_revoked_sessions(
    user: User,
    login: Callable,
    time_machine,
) -> None:
    login(user)
    live = AuthSession.objects.get(user=user)
    revoked = login(user)
    APIClient().post(
        "/api/v1/auth/logout/", {"refresh": revoked["refresh"]}, format="json"
    )
    login(user)
    expired = AuthSession.objects.filter(user=user).order_by("-created_at").first()
    AuthSession.objects.filter(pk=expired.pk).update(expires_at=expired.created_at)

    time_machine.move_to(timezone.now(), tick=False)

    time_machine.shift(10 * 60)  # past the revoked session's grace (an access lifetime)
    call_command("purge_sessions", verbosity=0)

    assert list(AuthSession.objects.filter(user=user)) == [live]


def test_the_hourly_task_purges_too(user: User, login: Callable) -> None:
    from django.conf import settings

    from accounts.tasks import purge_sessions

    login(user)
    AuthSession.objects.update(expires_at=timezone.now())

    assert purge_sessions.apply().result == 1
    assert not AuthSession.objects.exists()
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-sessions"]
    assert schedule["task"] == purge_sessions.name
