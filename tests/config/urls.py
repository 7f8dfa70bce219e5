"""Views that fail on purpose, mounted beside the real routes to test the error contract."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffWithMfa
from config.errors import ApplicationError
from config.pagination import PageNumberPagination


class SignupInput(serializers.Serializer):
    username = serializers.CharField(max_length=5)
    age = serializers.IntegerField(min_value=0)


class ValidatingApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        SignupInput(data=request.data).is_valid(raise_exception=True)
        return Response({"ok": True})


class ProtectedApi(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class StaffOnlyApi(APIView):
    permission_classes = [IsStaffWithMfa]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class BannedApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise ApplicationError(
            "account_banned",
            "This account is banned.",
            extra={"banned_until": None},
        )


class ExplodingApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internals: password=hunter2")


class NumbersApi(APIView):
    """A list of 250 numbers, paginated like every list of the API."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(list(range(250)), request, view=self)
        return paginator.get_paginated_response(page)


class RatelimitedApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise Ratelimited()


class ThrottledApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise exceptions.Throttled(wait=42)


def exploding_django_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [
    path("test/validating/", ValidatingApi.as_view()),
    path("test/protected/", ProtectedApi.as_view()),
    path("test/staff-only/", StaffOnlyApi.as_view()),
    path("test/banned/", BannedApi.as_view()),
    path("test/exploding/", ExplodingApi.as_view()),
    path("test/numbers/", NumbersApi.as_view()),
    path("test/ratelimited/", RatelimitedApi.as_view()),
    path("test/throttled/", ThrottledApi.as_view()),
    path("test/exploding-django/", exploding_django_view),
    path("", include("config.urls")),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
