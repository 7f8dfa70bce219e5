"""OpenAPI generation: every operation documents its problem-details error responses.

The error statuses an operation can answer are derived from the view itself (does it take a
body, need authentication, have a path parameter, page a list, sit behind a rate limit), so
the schema stays true as views change instead of relying on hand-written lists per view.
Every error status is served as ``application/problem+json``, whoever declared it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular import openapi
from drf_spectacular.utils import (
    Direction,
    OpenApiExample,
    OpenApiResponse,
    extend_schema_field,
)
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from config.error_codes import ERROR_CODES
from config.errors import PROBLEM_CONTENT_TYPE


class CanReadApiDocs(permissions.BasePermission):
    """The schema and docs pages: public unless ``API_DOCS_PUBLIC`` is off, then staff only."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_staff)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object"},
            ]
        },
    }
)
class ValidationErrorsField(serializers.DictField):
    """DRF's validation errors: a list of messages per field, or, for a nested serializer
    or a list field, an object of the same shape (``{"roles": {"0": ["…"]}}``)."""


class ProblemSerializer(serializers.Serializer[dict[str, Any]]):
    """RFC 9457 problem details, the body of every 4xx/5xx answer."""

    type = serializers.CharField(default="about:blank")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    detail = serializers.CharField(help_text="A human-readable sentence.")
    # A declared field: DRF's serializer metaclass takes it off the class, so it does not
    # shadow Serializer.errors as the stubs believe.
    errors = ValidationErrorsField(  # type: ignore[assignment]
        required=False,
        help_text=(
            "Field name -> messages; present on validation errors. A nested or list "
            "field maps its own field names (or item indexes) the same way."
        ),
    )


def problem_example(
    code: str, detail: str | None = None, **extra: Any
) -> OpenApiExample:
    """An example problem body for ``code``, its status and title from the catalogue."""
    entry = ERROR_CODES[code]
    body = {
        "type": "about:blank",
        "title": entry.title,
        "status": entry.status,
        "code": code,
        "detail": detail or entry.detail,
        **extra,
    }
    return OpenApiExample(
        code, value=body, response_only=True, status_codes=[str(entry.status)]
    )


VALIDATION_ERROR = problem_example(
    "validation_error",
    "This field is required.",
    errors={"password": ["This field is required."]},
)
NOT_AUTHENTICATED = problem_example(
    "not_authenticated",
    "Authentication credentials were not provided.",
)
PERMISSION_DENIED = problem_example(
    "permission_denied",
    "You do not have permission to perform this action.",
)
NOT_FOUND = problem_example("not_found", "Not found.")
WRONG_PASSWORD = problem_example(
    "validation_error",
    "The password is incorrect.",
    errors={"password": ["The password is incorrect."]},
)
RATE_LIMITED = problem_example("rate_limited", "Too many requests. Try again later.")

STANDARD_ERRORS: dict[str, tuple[str, OpenApiExample]] = {
    "400": ("Invalid input.", VALIDATION_ERROR),
    "401": ("Missing, invalid, expired or revoked credentials.", NOT_AUTHENTICATED),
    "403": ("Authenticated, but not allowed.", PERMISSION_DENIED),
    "404": ("No such object, or not visible to the caller.", NOT_FOUND),
    "429": ("Rate limited; see the Retry-After header.", RATE_LIMITED),
}
# What a list (config.pagination) answers for its page parameters.
PAGINATION_ERRORS: dict[str, tuple[str, OpenApiExample]] = {
    "400": (
        "A `page_size` that is not a positive whole number.",
        problem_example(
            "validation_error",
            "A positive whole number is required.",
            errors={"page_size": ["A positive whole number is required."]},
        ),
    ),
    "404": (
        "A `page` that is not a number, or lies past the last page.",
        problem_example("not_found", "Invalid page."),
    ),
}


def problem_response(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    return OpenApiResponse(
        ProblemSerializer, description=description, examples=list(examples)
    )


class AutoSchema(openapi.AutoSchema):
    def get_serializer_name(
        self, serializer: serializers.BaseSerializer[Any], direction: Direction
    ) -> str:
        """Views nest their own ``InputSerializer``/``OutputSerializer``; name each
        component after its owner (``RegisterApi.InputSerializer`` -> ``RegisterInput``)."""
        owner, _, name = type(serializer).__qualname__.rpartition(".")
        if not owner:
            return name
        owner = owner.split(".")[-1].removesuffix("Api").removesuffix("Serializer")
        return owner + name

    def _map_basic_serializer(
        self, serializer: serializers.BaseSerializer[Any], direction: Direction
    ) -> dict[str, Any]:
        """A serializer that sets ``closed = True`` admits no other key
        (``additionalProperties: false``), so that a ``oneOf`` tells it from a fuller
        shape (the public profile from the full one)."""
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if getattr(serializer, "closed", False):
            schema["additionalProperties"] = False
        return schema

    def _error_statuses(self) -> list[str]:
        takes_body = (
            self.method in {"POST", "PUT", "PATCH"} or self._delete_takes_body()
        )
        # A list validates ``page_size`` (400) and answers 404 for a page that is not a
        # number or lies past the last (config.pagination).
        paginated = self._is_paginated_list()
        needs_authentication = not all(
            isinstance(permission, permissions.AllowAny)
            for permission in self.view.get_permissions()
        )
        statuses = []
        if takes_body or paginated:
            statuses.append("400")
        if needs_authentication:
            statuses += ["401", "403"]
        if "{" in self.path or paginated:
            statuses.append("404")
        if getattr(self.view, "rate_limited", False):
            statuses.append("429")
        return statuses

    def _is_paginated_list(self) -> bool:
        return (
            self.method == "GET"
            and self._get_paginator() is not None
            and self._is_list_view()
        )

    def _delete_takes_body(self) -> bool:
        """A view sets ``delete_takes_body = True`` when its DELETE reads a body (the
        password confirming ``DELETE me/``); drf-spectacular documents none by default."""
        return self.method == "DELETE" and getattr(
            self.view, "delete_takes_body", False
        )

    def _get_request_body(self, direction: Direction = "request") -> Any:
        if not self._delete_takes_body():
            return super()._get_request_body(direction)
        method, self.method = (
            self.method,
            "POST",
        )  # the base class skips non-POST bodies
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = method

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        errors = STANDARD_ERRORS
        if self._is_paginated_list():
            errors = {**STANDARD_ERRORS, **PAGINATION_ERRORS}
        for status in self._error_statuses():
            if status not in responses:
                description, example = errors[status]
                responses[status] = self._get_response_for_code(
                    problem_response(description, example), status, None, direction
                )
        return responses

    def _get_response_for_code(
        self,
        serializer: Any,
        status_code: str,
        media_types: Any = None,
        direction: Direction = "response",
    ) -> dict[str, Any]:
        """Error bodies are problem details, served as ``application/problem+json``
        (``config.errors``), also where a view declares its own error responses."""
        if not media_types and int(status_code) >= 400:
            media_types = [PROBLEM_CONTENT_TYPE]
        response: dict[str, Any] = super()._get_response_for_code(
            serializer, status_code, media_types, direction
        )
        return response


def split_security_alternatives(
    result: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """drf-spectacular lists an authentication class's several schemes in one requirement,
    which OpenAPI reads as "all of them"; each is an alternative (a bearer token obtained
    any way, or Swagger UI's OAuth2 password flow)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            security = (
                operation.get("security") if isinstance(operation, dict) else None
            )
            if security:
                alternatives = [
                    {name: scopes}
                    for requirement in security
                    for name, scopes in requirement.items()
                ]
                operation["security"] = alternatives or security
    return result
