"""Guarding a feature by a named flag: a DRF permission class and a decorator.

A flag check is not an access check. A flag says whether a feature is served to a
caller (a rollout, a beta for testers, a kill switch); who may act is the view's
permission classes and ``accounts.access``. Always combine the two::

    class ReportApi(APIView):
        permission_classes = [IsAuthenticated, flag_required(Feature.REPORTS)]

Listed after the access checks, the flag is asked only of callers the view would serve,
so a refused caller learns nothing of the flag. Off for the caller, both answer what a
switched-off endpoint does (``flags.gates.switched_off``: ``404 not_found`` as an
unknown route, or ``403`` with ``FLAGS_DISABLED_ENDPOINT_STATUS = 403``). A flag that
does not exist is off.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiExample
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from flags.constants import Feature
from flags.evaluation import flag_is_on
from flags.gates import switched_off, switched_off_responses

P = ParamSpec("P")
R = TypeVar("R")


class FlagPermission(BasePermission):
    """Lets a request through when ``flag_name`` is on for its user; see the module.
    Made by :func:`flag_required`."""

    flag_name: str
    # Not an access check: a view that allows anyone stays public in the schema
    # (config.openapi.AutoSchema.is_public).
    is_access_check = False

    def has_permission(self, request: Request, view: APIView) -> bool:
        if flag_is_on(self.flag_name, request.user):
            return True
        raise switched_off()

    def schema_error_responses(
        self, path: str
    ) -> dict[str, tuple[str, OpenApiExample]]:
        return switched_off_responses(f"The feature `{self.flag_name}` is off.")


def flag_required(name: Feature | str) -> type[FlagPermission]:
    """A DRF permission class that refuses a request when flag ``name`` is off for its
    caller. Not an access check: list it after the view's real permission classes."""
    return type(
        f"FlagRequired_{name}",
        (FlagPermission,),
        {"flag_name": str(name), "__doc__": f"The feature flag `{name}` is on."},
    )


def requires_flag(name: Feature | str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function only when flag ``name`` is on for its caller; off,
    raise what a switched-off endpoint answers (``ApplicationError``, rendered by the
    API's exception handler). Not an access check: keep the real one.

    The caller is the ``user`` of the first argument that is a request (a view method's
    or a view function's), else the ``user`` or ``actor`` keyword argument of a plain
    function (a service); with none of them the flag is evaluated for nobody, which
    only ``everyone`` turns on."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        parameters = inspect.signature(function).parameters

        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if not flag_is_on(str(name), _caller(args, kwargs, parameters)):
                raise switched_off()
            return function(*args, **kwargs)

        return wrapper

    return decorate


def _caller(
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    parameters: Any,
) -> Any:
    for argument in (*args, *kwargs.values()):
        if isinstance(argument, HttpRequest | Request):
            return getattr(argument, "user", None)
    for keyword in ("user", "actor"):
        if keyword in kwargs:
            return kwargs[keyword]
    # Passed by position: find it through the signature.
    names = list(parameters)
    for keyword in ("user", "actor"):
        if keyword in names and names.index(keyword) < len(args):
            return args[names.index(keyword)]
    return None
