"""The Django admin as an attack surface of its own: a second factor, and the login limits
of the API (API.md: staff log in with MFA; login is rate limited)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.middleware import is_verified

from accounts.admin_layout import AccountsSection, StaffTimezone
from accounts.constants import AuditKind
from accounts.models import User
from accounts.selectors import ban_in_force, user_by_login
from accounts.services.audit import audit_record
from accounts.services.login import lockout_key, login_failure_record
from config.client import ClientInfo
from config.errors import PROBLEM_CONTENT_TYPE, ApplicationError, problem_body
from config.ratelimits import LoginFailures, reset_login_failures


def has_second_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and any(devices_for_user(user, confirmed=True))


class AdminLoginForm(OTPAdminAuthenticationForm):
    """django-otp's admin login form: password, then a code from one of the user's
    devices. A staff member with no device may enter without one only while
    ``MFA_REQUIRED_FOR_STAFF`` is off. A banned account is refused as an inactive one
    is (Django's form refuses those)."""

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if ban_in_force(user) is not None:
            raise ValidationError("This account is banned.", code="banned")

    def clean(self) -> dict[str, Any]:
        self.cleaned_data = super(OTPAdminAuthenticationForm, self).clean()
        user = self.get_user()
        if settings.MFA_REQUIRED_FOR_STAFF or has_second_factor(user):
            self.clean_otp(user)
        return self.cleaned_data


class GatehouseAdminSite(AccountsSection, StaffTimezone, OTPAdminSite):
    login_form = AdminLoginForm
    site_header = site_title = f"{settings.SITE_NAME} administration"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    def has_permission(self, request: HttpRequest) -> bool:
        """Every admin request: an active staff account (Django reloads it, and ends
        the session once all of its sessions were revoked: ``User._get_session_auth_hash``),
        not banned (one indexed query), with its second factor."""
        if not AdminSite.has_permission(self, request):
            return False
        if ban_in_force(request.user) is not None:  # type: ignore[arg-type]
            return False
        if is_verified(
            request.user
        ):  # what OTPMiddleware installs as user.is_verified()
            return True
        return not settings.MFA_REQUIRED_FOR_STAFF and not has_second_factor(
            request.user
        )

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Counted against the same limits as ``auth/login/``: the account's lockout and
        the client's failures; signing in resets the account's count. Every failure is
        audited: a wrong password as ``login.failed``, a wrong code as
        ``login.mfa_failed`` (``{"via": "admin"}``)."""
        if request.method != "POST":
            return super().login(request, extra_context)
        username = request.POST.get("username", "")
        user = user_by_login(username)
        key = lockout_key(username, user)
        failures = LoginFailures(request, key)
        try:
            failures.begin()
        except ApplicationError as error:
            return JsonResponse(
                problem_body(error.status, error.code, error.detail, extra=error.extra),
                status=error.status,
                content_type=PROBLEM_CONTENT_TYPE,
                headers=error.headers,
            )
        response = super().login(request, extra_context)
        form = getattr(response, "context_data", {}).get("form")
        if response.status_code == 200 and form is not None and form.get_user() is None:
            # A wrong password (not the first step of django-otp's form, which comes back
            # asking for a code): counted, audited and told as in auth/login/.
            login_failure_record(
                user=user,
                client=ClientInfo.from_request(request),
                locked_after=failures.failed(),
            )
            return response
        failures.succeeded()
        if response.status_code == 302 and request.user.is_authenticated:
            # Signed in, with the second factor when the form asked for one.
            reset_login_failures(request, key)
        elif (
            response.status_code == 200
            and form is not None
            and wrong_code(request, form)
        ):
            # The right password and a wrong code (or one django-otp's throttling refused
            # unchecked): audited as the API's wrong codes are, marked as the admin's.
            audit_record(
                kind=AuditKind.MFA_FAILED,
                client=ClientInfo.from_request(request),
                target=form.get_user(),
                payload={"via": "admin"},
            )
        return response


def wrong_code(request: HttpRequest, form: AdminLoginForm) -> bool:
    """A code was entered and the form did not accept it. django-otp's ``clean_otp``, which
    runs only after the password was right, sets ``otp_device`` on the user: ``None``
    unless a device verified the code. Not the first step (the password alone, no code)."""
    return (
        bool(request.POST.get("otp_token"))
        and getattr(form.get_user(), "otp_device", False) is None
    )
