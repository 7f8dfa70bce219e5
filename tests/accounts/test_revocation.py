"""Access tokens stop working on the very next request after any kind of revocation."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import AuthSession, User
from accounts.services.password import password_reset_token
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import bearer

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "silver kettles whistle beneath autumn rain"


def is_refused(access: str) -> bool:
    response = bearer(access).get("/api/v1/users/me/")
    if response.status_code == 200:
        return False
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    return True


def test_logout_all_revokes_every_session(user: User, login: Callable) -> None:
    first, second = login(user), login(user)
    assert not is_refused(first["access"])  # warm the cache: revocation must beat it

    response = bearer(first["access"]).post("/api/v1/auth/logout/all/")

    assert response.status_code == 204
    assert is_refused(first["access"])
    assert is_refused(second["access"])
    assert not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_deleting_a_session_revokes_its_tokens_only(
    user: User, login: Callable
) -> None:
    doomed, kept = login(user), login(user)
    assert not is_refused(doomed["access"])
    doomed_id = AuthSession.objects.filter(user=user).order_by("created_at").first().pk

    response = bearer(kept["access"]).delete(f"/api/v1/auth/sessions/{doomed_id}/")

    assert response.status_code == 204
    assert is_refused(doomed["access"])
    assert not is_refused(kept["access"])
    refresh = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": doomed["refresh"]}, format="json"
    )
    assert refresh.status_code == 401


def test_password_change_revokes_the_other_sessions(
    user: User, login: Callable
) -> None:
    current, other = login(user), login(user)
    assert not is_refused(other["access"])

    response = bearer(current["access"]).post(
        "/api/v1/auth/password/change/",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204, response.json()
    assert is_refused(other["access"])
    assert not is_refused(current["access"])


def test_password_reset_revokes_every_session(user: User, login: Callable) -> None:
    session = login(user)
    assert not is_refused(session["access"])

    user.refresh_from_db()  # a reset token binds to the last login time too
    response = APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"token": password_reset_token(user), "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 204, response.json()
    assert is_refused(session["access"])


def test_deactivating_the_account_refuses_its_tokens(
    user: User, login: Callable, django_capture_on_commit_callbacks
) -> None:
    session = login(user)
    assert not is_refused(session["access"])

    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()  # as the admin does: the cached account is forgotten on commit

    assert is_refused(session["access"])


def test_refresh_token_reuse_revokes_the_session(user: User, login: Callable) -> None:
    session = login(user)
    client = APIClient()
    rotated = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": session["refresh"]}, format="json"
    ).json()
    assert not is_refused(rotated["access"])

    # The spent token comes back (stolen, or replayed): the whole session dies.
    reuse = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": session["refresh"]}, format="json"
    )

    assert reuse.status_code == 401
    assert reuse.json()["code"] == "token_invalid"
    assert is_refused(rotated["access"])
    assert (
        client.post(
            "/api/v1/auth/token/refresh/",
            {"refresh": rotated["refresh"]},
            format="json",
        ).status_code
        == 401
    )
    assert user.audit_events.filter(kind="session.token_reuse").count() == 1
    assert len(mail.outbox) == 0


def test_a_replay_while_its_session_is_logged_out_records_no_reuse(
    user: User, login: Callable
) -> None:
    session = login(user)
    client = APIClient()
    rotated = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": session["refresh"]}, format="json"
    ).json()
    is_live = AuthSession.is_live
    logout: list = []

    def live_while_the_owner_logs_out(self: AuthSession) -> bool:
        live = is_live.fget(self)
        if not logout:  # the owner's logout lands between the replay's read and write
            logout.append(
                client.post(
                    "/api/v1/auth/logout/",
                    {"refresh": rotated["refresh"]},
                    format="json",
                )
            )
        return live

    with mock.patch.object(
        AuthSession, "is_live", property(live_while_the_owner_logs_out)
    ):
        replay = client.post(
            "/api/v1/auth/token/refresh/",
            {"refresh": session["refresh"]},
            format="json",
        )

    # The logout ended the session first; the replay is refused and ends nothing more.
    assert logout[0].status_code == 204
    assert replay.status_code == 401
    assert AuthSession.objects.get(user=user).revoke_reason == "logout"
    assert not user.audit_events.filter(kind="session.token_reuse").exists()


def test_a_deactivated_account_cannot_refresh(
    user: User, login: Callable, django_capture_on_commit_callbacks
) -> None:
    session = login(user)
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()

    response = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": session["refresh"]}, format="json"
    )

    assert response.status_code == 401
    assert AuthSession.objects.get(user=user).revoke_reason == "account_deactivated"
