"""Shared pieces of the ``/api/v1/auth/`` views."""

from __future__ import annotations

from functools import partial

from drf_spectacular.utils import (
    OpenApiResponse,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.examples import accepted_example
from accounts.api.serializers import (
    AcceptedSerializer,
    CanonicalEmailField,
)
from config.after_response import run_after_response
from config.client import ClientInfo
from config.openapi import problem_example
from config.ratelimits import enforce_rate_limit

TAGS = ["auth"]
INVALID_CREDENTIALS = problem_example(
    "invalid_credentials", "The login or password is incorrect."
)
TOKEN_INVALID = problem_example(
    "token_invalid",
    "The refresh token is invalid or expired.",
)
MFA_TOKEN_INVALID = problem_example(
    "token_invalid",
    "This sign-in attempt has ended. Sign in again.",
)
ACCOUNT_BANNED = problem_example(
    "account_banned",
    "This account is banned.",
    banned_until="2026-12-01T00:00:00Z",
)
ACCOUNT_INACTIVE = problem_example("account_inactive", "This account is deactivated.")
EMAIL_NOT_VERIFIED = problem_example(
    "email_not_verified",
    "Verify your email address first: follow the link we sent you.",
)
RESET_LINK_ANSWER = "If this address has an account, a reset link is on its way."
VERIFICATION_LINK_ANSWER = (
    "If this address awaits verification, a new link is on its way."
)


def accepted(answer: str) -> OpenApiResponse:
    """The 202 of an emailed link, with ``answer`` as its ``detail``."""
    return OpenApiResponse(
        AcceptedSerializer,
        description=(
            "Accepted. The same answer whether or not the address has an account."
        ),
        examples=[accepted_example(answer)],
    )


class PublicApi(APIView):
    """An endpoint anyone may call; rate limited."""

    rate_limit_group = "auth"  # limits.policy
    authentication_classes: list = []
    permission_classes = [AllowAny]


class EmailedLinkApi(PublicApi):
    """Takes an address and answers 202 whatever it is, so the answer tells nothing about
    which addresses have accounts; limited per address and per client.

    Its time tells nothing either: the work (the lookup, a token, the mail), which only
    known addresses cost, is queued as a task for every request once the answer is sent.
    """

    link_kind: str
    answer: str

    class InputSerializer(serializers.Serializer):
        email = CanonicalEmailField(max_length=254)

    def queue_link(self, *, email: str, client: ClientInfo) -> None:
        """Queue the task that sends the link (``accounts.tasks``); called after the
        response is sent."""
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"]  # canonical: one limit per address
        enforce_rate_limit(request, "email_per_ip", key="ip")
        enforce_rate_limit(
            request, "email_per_address", key=f"{self.link_kind}:{email}"
        )
        answer = AcceptedSerializer({"detail": self.answer}).data
        response = Response(answer, status=status.HTTP_202_ACCEPTED)
        run_after_response(
            response,
            partial(
                self.queue_link, email=email, client=ClientInfo.from_request(request)
            ),
        )
        return response
