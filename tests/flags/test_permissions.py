"""Guarding a feature by a flag: ``flag_required`` (a DRF permission class) and
``requires_flag`` (a decorator for view methods and plain functions). Off, both answer
what a switched-off endpoint does; a missing flag is off; neither replaces an access
check."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from config.error_codes import ApplicationError
from flags.constants import Feature
from flags.permissions import flag_required, requires_flag
from tests.flags.helpers import make_flag
from tests.helpers import account, client_for

pytestmark = pytest.mark.django_db


class GuardedApi(APIView):
    permission_classes = [IsAuthenticated, flag_required("reports")]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class DecoratedApi(APIView):
    permission_classes = [AllowAny]

    @requires_flag("reports")
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


@requires_flag("reports")
def build_report(*, actor: User) -> str:
    return "report"


@requires_flag("reports")
def build_report_positional(user: Any, size: int) -> int:
    return size


urlpatterns = [
    path("api/v1/guarded/", GuardedApi.as_view()),
    path("api/v1/decorated/", DecoratedApi.as_view()),
]


@pytest.fixture(autouse=True)
def _routes(settings) -> None:
    settings.ROOT_URLCONF = __name__


def test_the_permission_lets_through_whom_the_flag_is_on_for() -> None:
    tester, plain = account("tester"), account()
    make_flag("reports", roles=["tester"])

    allowed = client_for(tester).get("/api/v1/guarded/")
    refused = client_for(plain).get("/api/v1/guarded/")

    assert allowed.status_code == 200
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert refused.json()["detail"] == "Not found."


def test_the_access_check_comes_first() -> None:
    make_flag("reports", everyone=True)
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/guarded/").status_code == 401


def test_a_missing_flag_is_off() -> None:
    assert client_for(account()).get("/api/v1/guarded/").status_code == 404


@override_settings(FLAGS_DISABLED_ENDPOINT_STATUS=403)
def test_off_answers_403_with_the_setting() -> None:
    response = client_for(account()).get("/api/v1/guarded/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_decorator_on_a_view_method() -> None:
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/decorated/").status_code == 404
    make_flag("reports", everyone=True)
    assert APIClient().get("/api/v1/decorated/").status_code == 200


def test_the_decorator_on_plain_functions() -> None:
    chosen, other = account(), account()
    make_flag("reports", users=[str(chosen.pk)])

    assert build_report(actor=chosen) == "report"
    assert build_report_positional(chosen, 3) == 3
    with pytest.raises(ApplicationError) as refused:
        build_report(actor=other)
    assert refused.value.code == "not_found"
    with pytest.raises(ApplicationError):
        build_report_positional(other, 3)


def test_feature_names_are_a_str_enum() -> None:
    assert issubclass(Feature, str)
    assert flag_required("x").flag_name == "x"
