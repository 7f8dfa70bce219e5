"""The endpoint gate: each ``/api/v1/`` request is refused when its route's flag is off
for the caller (``flags.endpoints``).

It is a DRF throttle class, listed in ``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``:
DRF checks throttles in every view's ``initial()``, after authentication (so an endpoint
flag's role, user and percentage rules see the caller) and after the permission classes,
and before the handler runs. No view sets ``throttle_classes`` (rate limits are
django-ratelimit's, ``config.ratelimits``); ``tests/flags/test_gate.py`` checks that every
API route keeps the gate.

Running after the permission classes is deliberate: a caller the view refuses anyway
(401 to an anonymous caller, 403 to a non-staff one) gets that refusal whether the route
is on or off, so the answer never tells someone a flag's state for a route they may not
use. A caller the view would serve gets, for a route switched off for them, exactly what
an unknown route answers (``config.errors.page_not_found``): ``404 not_found``, "Not
found.", and no ``Allow`` header naming the route's methods. With
``FLAGS_DISABLED_ENDPOINT_STATUS = 403`` it is ``403 permission_denied`` instead.

Cost: one dictionary lookup for the route's flag name (``lru_cache``) and one rule
evaluation on the process's rule set (``flags.evaluation``): no SQL and no cache read of
its own once warm.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from config.error_codes import ApplicationError
from config.ratelimits import withhold
from flags.endpoints import API_PREFIX, flag_name_for_route
from flags.evaluation import flag_is_on

if TYPE_CHECKING:
    # Not at run time: rest_framework.views imports this module (its APIView reads
    # DEFAULT_THROTTLE_CLASSES when it is defined), and config.openapi imports it.
    from drf_spectacular.utils import OpenApiExample
    from rest_framework.request import Request
    from rest_framework.views import APIView

SWITCHED_OFF = (
    "This endpoint is switched off (its feature flag), for this caller or for all."
)


def switched_off() -> ApplicationError:
    """What a route switched off answers: what an unknown route answers, or 403 with
    ``FLAGS_DISABLED_ENDPOINT_STATUS = 403``."""
    if settings.FLAGS_DISABLED_ENDPOINT_STATUS == 403:
        return ApplicationError("permission_denied")
    return ApplicationError("not_found")


class EndpointFlagGate(BaseThrottle):
    """Refuses a request whose route's endpoint flag is off for ``request.user``; a
    route whose flag does not exist is on."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        match = request.resolver_match
        name = flag_name_for_route(match.route) if match is not None else None
        if name is None or flag_is_on(name, request.user, default=True):
            return True
        # Answered as an unknown route is: no Allow header naming the route's methods,
        # and none of the headers the view's mixins add in their finalize_response
        # (Cache-Control): the answer is finalized as a plain APIView's. Nor any
        # RateLimit-* header, and the use its round trip counted is taken back.
        from rest_framework.views import APIView  # loaded by now; see the imports

        withhold(request)
        view.headers.pop("Allow", None)
        view.finalize_response = partial(  # type: ignore[method-assign]
            APIView.finalize_response, view
        )
        raise switched_off()

    def wait(self) -> float | None:  # pragma: no cover - allow_request never says no
        return None

    # --- The schema (config.openapi.AutoSchema asks every throttle) ---------------------

    def schema_error_responses(
        self, path: str
    ) -> dict[str, tuple[str, OpenApiExample]]:
        """The answer of ``path`` (``/api/v1/users/{user_id}/ban/``) switched off, for
        every operation that has an endpoint flag."""
        route = path.removeprefix("/")
        if not route.startswith(API_PREFIX) or flag_name_for_route(route) is None:
            return {}
        return switched_off_responses(SWITCHED_OFF)


def switched_off_responses(
    description: str,
) -> dict[str, tuple[str, OpenApiExample]]:
    """The schema's response for an answer of :func:`switched_off`."""
    # Here, not at the top: see the imports.
    from config.openapi import NOT_FOUND, PERMISSION_DENIED

    if settings.FLAGS_DISABLED_ENDPOINT_STATUS == 403:
        return {"403": (description, PERMISSION_DENIED)}
    return {"404": (description, NOT_FOUND)}
