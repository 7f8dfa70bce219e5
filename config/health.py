"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, cast

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import SimpleTemplateResponse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.counters import counting_is_ready
from config.errors import problem_response
from config.openapi import ProblemSerializer

logger = logging.getLogger("gatehouse.health")


def database_is_ready() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row: object = cursor.fetchone()
        return row == (1,)


def cache_is_ready() -> bool:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    value: object = cache.get(key)
    ready = value == "ok"
    cache.delete(key)
    return ready


READINESS_CHECKS: dict[str, Callable[[], bool]] = {
    "database": database_is_ready,
    "cache": cache_is_ready,
    # "error" while the rate limits fail open (config.counters): requests are served
    # uncounted because the cache could not be reached.
    "rate_limits": counting_is_ready,
}


def run_readiness_checks() -> dict[str, str]:
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            results[name] = "ok" if check() else "error"
        except Exception:  # a probe reports failures, it does not raise them
            logger.warning("Readiness check %r failed", name, exc_info=True)
            results[name] = "error"
    return results


class ProbeApi(APIView):
    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    rate_limit_group = None  # orchestrators probe as often as they like


class LivenessSerializer(serializers.Serializer[dict[str, str]]):
    status = serializers.CharField()


class ReadinessSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.CharField()
    checks = serializers.DictField(child=serializers.CharField())


class LivenessApi(ProbeApi):
    @extend_schema(
        operation_id="getLiveness",
        tags=["operations"],
        summary="The process is serving",
        responses={200: LivenessSerializer},
        examples=[OpenApiExample("ok", value={"status": "ok"})],
    )
    def get(self, request: Request) -> Response:
        return Response(LivenessSerializer({"status": "ok"}).data)


class ReadinessApi(ProbeApi):
    @extend_schema(
        operation_id="getReadiness",
        tags=["operations"],
        summary="The database and the cache answer, and requests are counted",
        responses={
            200: ReadinessSerializer,
            503: OpenApiResponse(
                ProblemSerializer,
                description="A dependency is down; `checks` names it.",
                examples=[
                    OpenApiExample(
                        "cache down",
                        value={
                            "type": "about:blank",
                            "title": "Service Unavailable",
                            "status": 503,
                            "code": "not_ready",
                            "detail": (
                                "Not ready: cache and rate_limits are unavailable."
                            ),
                            "checks": {
                                "database": "ok",
                                "cache": "error",
                                "rate_limits": "error",
                            },
                        },
                    )
                ],
            ),
        },
        examples=[
            OpenApiExample(
                "ok",
                value={
                    "status": "ok",
                    "checks": {"database": "ok", "cache": "ok", "rate_limits": "ok"},
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        checks = run_readiness_checks()
        failing = [name for name, result in checks.items() if result != "ok"]
        if failing:
            verb = "is" if len(failing) == 1 else "are"
            return problem_response(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "not_ready",
                f"Not ready: {' and '.join(failing)} {verb} unavailable.",
                extra={"checks": checks},
            )
        return Response(ReadinessSerializer({"status": "ok", "checks": checks}).data)


class HealthProbeMiddleware:
    """Answers the probes whatever the ``Host`` header says.

    Orchestrators probe the container's own address (``127.0.0.1:8000`` in the image's
    ``HEALTHCHECK``, the pod IP for Kubernetes), which a real ``ALLOWED_HOSTS`` does not
    list: ``CommonMiddleware`` would answer 400 and the container would never turn healthy.
    Placed before ``CommonMiddleware``, which validates the host (``SecurityMiddleware``,
    before it, reads the host only to redirect to HTTPS, and ``SECURE_REDIRECT_EXEMPT``
    exempts the probes), it serves the two probe views itself, with the security and
    CORS headers of every response; they read no host, no cookie and no credential. Every other path
    goes on to host validation as before."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.probes: dict[str, Callable[..., HttpResponse]] = {
            "/health/live/": LivenessApi.as_view(),
            "/health/ready/": ReadinessApi.as_view(),
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        # An APIView answers with DRF's Response, which Django renders after the
        # middleware chain; answered from within it, it is rendered here.
        response = cast(SimpleTemplateResponse, probe(request))
        response.render()
        return response


def benchmark_reference(request: HttpRequest) -> JsonResponse:
    """A bare Django JSON view, mounted only for ``bench/`` as the yardstick for other routes."""
    return JsonResponse({"status": "ok"})
