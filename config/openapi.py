"""OpenAPI generation: every operation documents its problem-details error responses.

The error statuses an operation can answer are derived from the view itself (does it take a
body, need authentication, have a path parameter, page a list, sit behind a rate limit), so
the schema stays true as views change instead of relying on hand-written lists per view.
Every error status is served as ``application/problem+json``, whoever declared it.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.conf import settings
from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance, get_doc
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

# Every ``code`` a problem can carry, for the schema's ``ErrorCodeEnum``, each described
# by its usual sentence.
ERROR_CODE_CHOICES = [
    (code, entry.detail) for code, entry in sorted(ERROR_CODES.items())
]


class CanReadApiDocs(permissions.BasePermission):
    """The schema and docs pages: public unless ``API_DOCS_PUBLIC`` is off, then staff only."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_staff)


# Validation errors nest as deep as the serializer does, so their schema refers to itself;
# a generated client gets a recursive type it can walk without a cast.
FIELD_ERRORS_COMPONENT = {
    "type": "object",
    "description": (
        "Field name -> messages; a nested or list field maps its own field names (or "
        "item indexes) the same way."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"$ref": "#/components/schemas/FieldErrors"},
        ]
    },
}


@extend_schema_field({"$ref": "#/components/schemas/FieldErrors"})
class ValidationErrorsField(serializers.DictField):
    """DRF's validation errors: a list of messages per field, or, for a nested serializer
    or a list field, an object of the same shape (``{"roles": {"0": ["…"]}}``)."""


class ConstantField(serializers.Field):  # type: ignore[type-arg]
    """An output member whose value the shape holding it fixes (``mfa_required: true``
    in the login challenge, ``false`` beside the tokens): documented as a required
    one-value enum, so a generated client narrows a ``oneOf`` on it
    (``if (data.mfa_required)`` in TypeScript)."""

    def __init__(self, value: bool | str, **kwargs: Any) -> None:
        self.value = value
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance: Any) -> bool | str:
        return self.value

    def to_representation(self, value: Any) -> bool | str:
        return self.value


class ProblemSerializer(serializers.Serializer[dict[str, Any]]):
    """RFC 9457 problem details, the body of every 4xx/5xx answer."""

    type = serializers.CharField(help_text="Always `about:blank`: `code` says more.")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField()
    code = serializers.ChoiceField(
        choices=ERROR_CODE_CHOICES,
        help_text="Stable machine-readable error code (`config.error_codes`).",
    )
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
    # The members some answers add (ApplicationError's ``extra``, config.errors).
    retry_after = serializers.IntegerField(
        required=False,
        help_text="`rate_limited`: seconds to wait, as in the `Retry-After` header.",
    )
    banned_until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="`account_banned`: when the ban ends; null when it is permanent.",
    )
    checks = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Readiness probe: each dependency's state (`ok` or `error`).",
    )
    request_id = serializers.CharField(
        required=False,
        help_text="5xx: the `X-Request-ID` under which the server logged the failure.",
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
    "503": (
        "The session store refused to record the revocation this needs: nothing "
        "changed, try again.",
        problem_example("service_unavailable", "The service is unavailable."),
    ),
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


# The description of a response its view leaves undescribed.
RESPONSE_DESCRIPTIONS = {
    "200": "Success.",
    "201": "Created.",
    "202": "Accepted: the rest happens after the answer (an email is queued).",
    "204": "Done; no body.",
}


def header(description: str, schema_type: str, *, required: bool) -> dict[str, Any]:
    return {
        "description": description,
        "required": required,
        "schema": {"type": schema_type},
    }


REQUEST_ID_HEADER = header(
    "The request's id: the caller's well-formed `X-Request-ID`, or one generated. "
    "The server's log line carries it.",
    "string",
    required=True,
)
RETRY_AFTER_HEADER = header(
    "Seconds to wait before trying again.", "integer", required=True
)
# Sent for the tightest limit the request was counted against (config.ratelimits), when
# rate limits are on.
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": header(
        "Requests allowed in the window of the tightest limit.",
        "integer",
        required=False,
    ),
    "RateLimit-Remaining": header(
        "Requests left in that window.", "integer", required=False
    ),
    "RateLimit-Reset": header(
        "Seconds until that window resets.", "integer", required=False
    ),
}
CONTENT_DISPOSITION_HEADER = header(
    'A download: `attachment; filename="…"`.', "string", required=True
)


# The security schemes of API keys (``apikeys.authentication``): listed only on the
# operations that take a key.
API_KEY_SCHEMES = ("apiKeyAuth", "apiKeyHeader")


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's generator, with what generated clients need from every
    operation: the error answers a view can give (``_error_statuses``), problem+json
    bodies, response headers, response descriptions, ``security: []`` on public
    operations, one-value enums for :class:`ConstantField`, and no ``default`` on an
    optional request field (openapi-typescript would make it a required property)."""

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

    def get_description(self) -> str:  # type: ignore[override]
        """``@extend_schema(description=...)`` (which replaces this method), else the
        handler's or the view class's own docstring: not one inherited from a mixin or a
        base view, which speaks to developers (``Cache-Control: no-store``...)."""
        handler = getattr(self.view, self.method.lower(), None)
        own = type(self.view).__dict__.get("__doc__")
        return get_doc(handler) or (inspect.cleandoc(own) if own else "")

    def is_public(self) -> bool:
        """Anyone may call it: every permission is ``AllowAny``."""
        return all(
            isinstance(permission, permissions.AllowAny)
            # A permission that is no access check (a feature flag's) lets anyone in
            # whom the others let in.
            or getattr(permission, "is_access_check", True) is False
            for permission in self.view.get_permissions()
        )

    def get_auth(self) -> list[dict[str, Any]]:
        """A public operation sends no credentials: ``security: []`` (set in
        ``get_operation``), not drf-spectacular's ``[{}]`` ("optionally none"), which
        makes openapi-python-client ask for an authenticated client."""
        if self.is_public():
            return []
        auths: list[dict[str, Any]] = super().get_auth()
        if not self._takes_api_keys():
            auths = [
                {
                    name: scopes
                    for name, scopes in requirement.items()
                    if name not in API_KEY_SCHEMES
                }
                for requirement in auths
            ]
        return [requirement for requirement in auths if requirement]

    def _takes_api_keys(self) -> bool:
        """The view states the scopes an API key needs for this method
        (``required_scopes``, read by ``apikeys.authentication``); others refuse keys."""
        return self._api_key_scopes() is not None

    def _api_key_scopes(self) -> tuple[str, ...] | None:
        method = "GET" if self.method in {"HEAD", "OPTIONS"} else self.method
        declared = getattr(self.view, "required_scopes", None) or {}
        if method not in declared:
            return None
        needed = declared[method]
        return (needed,) if isinstance(needed, str) else tuple(needed)

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: Any,
    ) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is not None and self.is_public():
            operation["security"] = []
        if operation is not None and (scopes := self._api_key_scopes()) is not None:
            needed = ", ".join(f"`{scope}`" for scope in scopes) or "no scope"
            sentence = f"With an API key: needs {needed}."
            description = operation.get("description", "")
            operation["description"] = (
                f"{description}\n\n{sentence}" if description else sentence
            )
        return operation

    def _map_serializer_field(
        self, field: Any, direction: Direction, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        if isinstance(field, ConstantField):
            schema_type = "boolean" if isinstance(field.value, bool) else "string"
            # ``inline_constants`` turns this into ``enum: [value]`` after drf-spectacular's
            # enum hook, which would otherwise make a component of every such member.
            schema = {"type": schema_type, CONSTANT_KEY: field.value}
            if field.help_text:
                schema["description"] = str(field.help_text)
            return schema
        mapped: dict[str, Any] = super()._map_serializer_field(
            field, direction, bypass_extensions
        )
        return mapped

    def _map_basic_serializer(
        self, serializer: serializers.BaseSerializer[Any], direction: Direction
    ) -> dict[str, Any]:
        """A serializer that sets ``closed = True`` admits no other key
        (``additionalProperties: false``), so that a ``oneOf`` tells it from a fuller
        shape (the public profile from the full one). An optional request field keeps
        no ``default``: openapi-typescript types a property with one as required."""
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        fields = getattr(force_instance(serializer), "fields", {})
        constants = [
            name for name, field in fields.items() if isinstance(field, ConstantField)
        ]
        if constants:
            schema["required"] = sorted({*schema.get("required", []), *constants})
        if getattr(serializer, "closed", False):
            schema["additionalProperties"] = False
        if direction == "request":
            required = set(schema.get("required", []))
            for name, field_schema in schema.get("properties", {}).items():
                if name not in required and isinstance(field_schema, dict):
                    field_schema.pop("default", None)
        return schema

    def _takes_body(self) -> bool:
        if self.method in {"POST", "PUT", "PATCH"}:
            return self.get_request_serializer() is not None
        return self._delete_takes_body()

    def _error_statuses(self) -> list[str]:
        # A list validates ``page_size`` (400) and answers 404 for a page that is not a
        # number or lies past the last (config.pagination).
        paginated = self._is_paginated_list()
        statuses = []
        if self._takes_body() or paginated:
            statuses.append("400")
        if not self.is_public():
            statuses += ["401", "403"]
        if "{" in self.path or paginated:
            statuses.append("404")
        if self._is_rate_limited():
            statuses.append("429")
        # Views whose services end sessions: revocation aborts (503) rather than commit
        # while the tokens keep working (accounts.session_state.mark_sessions_revoked).
        if self.method in getattr(self.view, "revokes_sessions_on", ()):
            statuses.append("503")
        return statuses

    def _get_paginator(self) -> Any:
        """The view's paginator, told the list's path (its link examples show it)."""
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.schema_path = self.path
        return paginator

    def _is_rate_limited(self) -> bool:
        """A throttle counts the operation (``schema_rate_limited``: the endpoint
        groups' limits), or the view says so (``rate_limited = True``)."""
        if getattr(self.view, "rate_limited", False):
            return True
        route = self.path.removeprefix("/")
        return any(
            check.schema_rate_limited(self.view, self.method, route)
            for check in self.view.get_throttles()
            if hasattr(check, "schema_rate_limited")
        )

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
        # What a permission or throttle class may answer instead (the feature flags'
        # endpoint gate): its own response, or a sentence added to the one there is.
        for status, (description, example) in self._declared_errors().items():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    problem_response(description, example), status, None, direction
                )
            elif description not in responses[status].get("description", ""):
                known = responses[status].get("description", "").rstrip(".")
                responses[status]["description"] = f"{known}; or: {description}"
        return responses

    def _declared_errors(self) -> dict[str, tuple[str, OpenApiExample]]:
        """The error answers the view's permission and throttle classes declare for
        this path: each may define ``schema_error_responses(path) -> {status:
        (description, example)}`` (``config`` names no app: it asks each of them)."""
        errors: dict[str, tuple[str, OpenApiExample]] = {}
        for check in (*self.view.get_permissions(), *self.view.get_throttles()):
            declare = getattr(check, "schema_error_responses", None)
            if declare is not None:
                errors.update(declare(self.path))
        return errors

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
        if not response.get("description"):
            response["description"] = RESPONSE_DESCRIPTIONS.get(status_code, "")
        return response

    def _get_response_headers_for_code(
        self, status_code: str, direction: Direction = "response"
    ) -> dict[str, Any]:
        """The headers the middleware and mixins add, declared once here:
        ``X-Request-ID`` on every answer (config.middleware), ``RateLimit-*`` on the
        successes and 429s of a rate-limited view and ``Retry-After`` on a 429
        (config.ratelimits), ``Content-Disposition`` on a download (a view that sets
        ``serves_attachment = True``)."""
        headers: dict[str, Any] = super()._get_response_headers_for_code(
            status_code, direction
        )
        headers["X-Request-ID"] = REQUEST_ID_HEADER
        success = status_code.startswith("2")
        if status_code == "429":
            headers["Retry-After"] = RETRY_AFTER_HEADER
        if self._is_rate_limited() and (success or status_code == "429"):
            headers.update(RATE_LIMIT_HEADERS)
        if success and getattr(self.view, "serves_attachment", False):
            headers["Content-Disposition"] = CONTENT_DISPOSITION_HEADER
        return headers


CONSTANT_KEY = "x-constant"


def inline_constants(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A :class:`ConstantField` stays a one-value ``enum`` in place (``mfa_required:
    {type: boolean, enum: [true]}``), not an enum component per member."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if CONSTANT_KEY in node:
                node["enum"] = [node.pop(CONSTANT_KEY)]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result.get("components", {}))
    return result


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


def add_field_errors_component(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Adds ``FieldErrors``, the recursive shape of ``Problem.errors``."""
    result.setdefault("components", {}).setdefault("schemas", {})["FieldErrors"] = (
        FIELD_ERRORS_COMPONENT
    )
    return result
