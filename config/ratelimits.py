"""Named rate limits, answering the contract's 429.

Limits are declared once, in ``settings.RATE_LIMITS``; views (and the admin) ask for them by
name. They count per request (the client's address, the headers the answer reports), so
they stay in the HTTP layer: services never see them. A refused request raises an
:class:`~config.errors.ApplicationError` rendered as ``429 rate_limited`` with
``Retry-After``; every checked limit also reports itself in the
``RateLimit-Limit``/``-Remaining``/``-Reset`` headers (``limits.middleware`` writes them
for the tightest of the limits reported by :func:`report_usage`).

Each limit counts in a sliding window of our own (``config.sliding_window``), not in
django-ratelimit's fixed windows, whose edges sit at ``crc32(key) % period``
(jsocol/django-ratelimit#120): an edge a client can read in ``RateLimit-Reset`` tells
which key it was counted under, and twice the limit fits across one. What is kept of
django-ratelimit is its conventions: the rates' syntax, ``RATELIMIT_ENABLE``, the
``RATELIMIT_IPV4_MASK``/``RATELIMIT_IPV6_MASK`` masks, ``RATELIMIT_IP_META_KEY`` (our
``config.client_ip``) and its ``Ratelimited`` exception, answered as ``429`` (a
``@ratelimit``-decorated view of a plugin). Every API route is also counted in its
endpoint group (``limits``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request

from config import counters
from config.client_ip import client_ip, limited_address
from config.counters import Counting, take_back
from config.errors import ApplicationError
from config.requests import django_request
from config.sliding_window import SlidingWindow, WindowState


@dataclass(frozen=True)
class Usage:
    name: str
    limit: int
    count: int
    reset_seconds: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.count, 0)

    @property
    def is_exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def is_reached(self) -> bool:
        return self.count >= self.limit


def rate_limit_usage(
    request: HttpRequest | Request, name: str, *, key: str, increment: bool
) -> Usage | None:
    """Count (``increment``) or only read one use of limit ``name`` for ``key``, in a
    sliding window whose edges are the same for every key (``config.sliding_window``).

    ``key`` is ``"ip"`` (the client's address) or any string that identifies what is
    limited (an account id, a normalised email). ``None`` when rate limits are disabled.
    """
    window = sliding_window(request, name, key=key)
    if window is None:
        return None
    state = window.count() if increment else window.state()
    if state is None:  # the cache cannot be reached: fail open
        return None
    return report(request, name, state)


def raise_rate_limited(usage: Usage) -> None:
    raise ApplicationError(
        "rate_limited",
        f"Too many requests. Try again in {usage.reset_seconds} seconds.",
        headers={"Retry-After": str(usage.reset_seconds)},
        extra={"retry_after": usage.reset_seconds},
    )


def enforce_rate_limit(request: HttpRequest | Request, name: str, *, key: str) -> None:
    """Count one use of ``name`` for ``key``; 429 once the limit is exceeded."""
    usage = rate_limit_usage(request, name, key=key, increment=True)
    if usage is not None and usage.is_exceeded:
        raise_rate_limited(usage)


def limited_ip(request: HttpRequest | Request) -> str:
    """The client's address as per-IP limits count it (:func:`limited_address`)."""
    return limited_address(client_ip(django_request(request)))


T = TypeVar("T")


def _fail_open(operation: Callable[[], T]) -> T | None:
    """``operation()``, or ``None`` when the cache cannot be reached: the named limits
    fail open as the groups' do, sharing their log, backoff and readiness signal
    (``config.counters``), and never answer 500."""
    if counters.backing_off():
        counters.note_skipped()
        return None
    try:
        result = operation()
    except Exception:  # any failure of the cache backend (redis-py, django-redis)
        counters.note_failure()
        return None
    counters.note_success()
    return result


class NamedWindow:
    """A named limit's counter (``config.sliding_window``) that fails open: each
    operation answers ``None`` (nothing known, nothing enforced) when the cache
    cannot be reached."""

    def __init__(self, window: SlidingWindow) -> None:
        self.window = window
        self.limit, self.period = window.limit, window.period

    def state(self) -> WindowState | None:
        return _fail_open(self.window.state)

    def count(self) -> WindowState | None:
        return _fail_open(self.window.count)

    def uncount(self) -> None:
        _fail_open(self.window.uncount)

    def lock(self) -> bool:
        return bool(_fail_open(self.window.lock))

    def reset(self) -> None:
        _fail_open(self.window.reset)


def sliding_window(
    request: HttpRequest | Request, name: str, *, key: str
) -> NamedWindow | None:
    """The sliding-window counter of limit ``name`` for ``key`` (``"ip"``: the client's
    address); ``None`` when rate limits are disabled."""
    if not settings.RATELIMIT_ENABLE:
        return None
    value = limited_ip(request) if key == "ip" else key
    return NamedWindow(
        SlidingWindow(name=name, key=value, rate=settings.RATE_LIMITS[name])
    )


def report(request: HttpRequest | Request, name: str, state: WindowState) -> Usage:
    return report_usage(
        request,
        Usage(
            name=name,
            limit=state.limit,
            count=state.count,
            reset_seconds=state.reset_seconds,
        ),
    )


def report_usage(request: HttpRequest | Request, usage: Usage) -> Usage:
    """Note a limit the request was counted against: the answer's ``RateLimit-*``
    headers report the tightest (``limits.middleware``)."""
    plain_request = django_request(request)
    reported = getattr(plain_request, "rate_limits", [])
    plain_request.rate_limits = [*reported, usage]  # type: ignore[attr-defined]
    return usage


def withhold(request: HttpRequest | Request) -> None:
    """Answer as if the route did not exist (a route switched off, ``flags.gates``): no
    ``RateLimit-*`` headers, and the use its cache round trip counted taken back, so
    that nothing, not even the caller's next count, tells it from an unknown route."""
    plain_request = django_request(request)
    plain_request.rate_limit_headers_withheld = True  # type: ignore[attr-defined]
    plain_request.rate_limits = []  # type: ignore[attr-defined]
    counting: Counting | None = getattr(plain_request, "rate_limit_counting", None)
    if counting is not None:
        counting.confirmed.clear()
        take_back(counting.unconfirmed())


class LoginFailures:
    """The failure counters one login attempt (or second step) answers to: the account's
    or device's (``key``, see ``accounts.services.login.lockout_key``; none for ``""``)
    and the client's (``ip_limit``). Each lock lasts a whole window
    (``LOGIN_LOCKOUT_MINUTES`` for accounts) from the failure that reaches the limit.

    :meth:`begin` counts the attempt as a failure before the password is checked, so
    that attempts racing one another are counted before any password is: of those sent
    at once, no more than the limit are checked. :meth:`succeeded` takes the count
    back; :meth:`failed` keeps it and locks what reached its limit."""

    def __init__(
        self,
        request: HttpRequest | Request,
        key: str,
        *,
        ip_limit: str = "login_failures_per_ip",
    ) -> None:
        self.request = request
        self.key = key
        limits = [(ip_limit, "ip")]
        if key:
            limits.insert(0, ("login_failures_per_account", key))
        self.windows = [
            (name, limit_key, window)
            for name, limit_key in limits
            if (window := sliding_window(request, name, key=limit_key)) is not None
        ]
        # None: the cache could not be reached (the counter fails open).
        self.states: list[WindowState | None] = []

    def check(self) -> None:
        """``429`` while a counter is locked, whatever the password. Counts nothing."""
        for name, _, window in self.windows:
            state = window.state()
            if state is None:
                continue
            usage = report(self.request, name, state)
            if state.is_locked:
                raise_rate_limited(usage)

    def count(self) -> None:
        """Count one failure (reported, in the headers, by :meth:`failed`)."""
        self.states = [window.count() for _, _, window in self.windows]

    def begin(self) -> None:
        """:meth:`check`, then count this attempt up front; ``429`` (counting nothing)
        when attempts racing this one already took the last ones the limit allows."""
        self.check()
        self.count()
        for (name, _, window), state in zip(self.windows, self.states, strict=True):
            if state is not None and state.count > state.limit:
                self.succeeded()
                raise_rate_limited(
                    Usage(name, state.limit, state.count, reset_seconds=window.period)
                )

    def succeeded(self) -> None:
        """Not a failure after all: take back what :meth:`begin` counted."""
        for _, _, window in self.windows:
            window.uncount()

    def failed(self) -> int | None:
        """Keep the count, and lock each counter this failure brought to its limit.
        Returns the limit when this failure is the one that locks ``key``
        (``accounts.services.login.login_failure_record`` audits and tells it)."""
        locked_after = None
        for (name, limit_key, window), state in zip(
            self.windows, self.states, strict=True
        ):
            if state is None:
                continue
            if state.count >= state.limit and window.lock():
                state = window.state() or state
                if limit_key == self.key:
                    locked_after = state.limit
            report(self.request, name, state)
        return locked_after


def reset_login_failures(request: HttpRequest | Request, *keys: str | None) -> None:
    """A successful login forgets the failures counted under ``keys`` (the account's,
    the device's). A lock in force stays: it was reached by others' failures, and
    lifting it whenever the owner signs in from a device of theirs would give whoever
    guesses a new round of attempts each time."""
    for key in filter(None, keys):
        window = sliding_window(request, "login_failures_per_account", key=key)
        if window is not None:
            window.reset()


def enforce_sliding_limit(
    request: HttpRequest | Request, name: str, *, key: str
) -> None:
    """Count one use of ``name`` for ``key`` in a sliding window; 429 once the limit is
    exceeded (``Retry-After``: until the oldest counted use leaves the window)."""
    window = sliding_window(request, name, key=key)
    if window is None:
        return
    state = window.count()
    if state is None:  # the cache cannot be reached: fail open
        return
    usage = report(request, name, state)
    if usage.is_exceeded:
        raise_rate_limited(usage)
