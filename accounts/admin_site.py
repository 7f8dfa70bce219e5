"""The Django admin as an attack surface of its own: a second factor, and the login limits
of the API (API.md: staff log in with MFA; login is rate limited).

Signing in is one page: the login name (username or email), the password and a code
(from the authenticator app, or a recovery code) together. Whatever was wrong, the answer
is the same message, counted by the lockout of ``auth/login/`` and audited. A staff member
with the right password and no second factor yet (while ``MFA_REQUIRED_FOR_STAFF`` is
on) is not signed in: as Keycloak's "required action", the answer takes them to
``mfa/enrol/``, which sets up an authenticator app and only then signs them in.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict, cast

import segno
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.middleware import is_verified

from accounts.admin_layout import AccountsSection, StaffTimezone
from accounts.constants import AMR_PASSWORD, AuditKind
from accounts.models import SessionUser, TOTPAuthenticator, User
from accounts.selectors import ban_in_force, totp_pending, user_by_login
from accounts.services.login import (
    account_lockout_key,
    lockout_key,
    login_failure_record,
)
from accounts.services.mfa import (
    admin_code_verify,
    totp_confirm,
    totp_setup,
    totp_setup_details,
)
from accounts.services.reauthentication import WrongPassword
from config.client import ClientInfo
from config.errors import PROBLEM_CONTENT_TYPE, ApplicationError, problem_body
from config.ratelimits import LoginFailures, reset_login_failures

# One answer for a wrong login name, a wrong password, a missing or wrong code, and an
# account that is not staff: it tells none of them apart, nor whether the account has a
# second factor. A right code refused by django-otp's throttle (a growing delay after each
# wrong code) gets it too, hence the advice to wait.
SIGN_IN_REFUSED = (
    "Please enter the correct username (or email), password and code of a staff "
    "account. Fields may be case-sensitive; after a wrong code, wait a few seconds "
    "before you try again."
)
ADMIN = {"via": "admin"}
ENROLMENT_SESSION_KEY = "admin_mfa_enrolment"
# How long the password proves enough to set up the app: afterwards, sign in again.
ENROLMENT_SECONDS = 600
# The backend recorded in the session of a staff member signed in by the enrolment (the
# password was checked by the login form's backends; the session's user is reloaded by it).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def has_second_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and any(devices_for_user(user, confirmed=True))


def problem_response(error: ApplicationError) -> JsonResponse:
    return JsonResponse(
        problem_body(error.status, error.code, error.detail, extra=error.extra),
        status=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers=error.headers,
    )


class AdminLoginForm(AdminAuthenticationForm):
    """Login name, password and code on one form. After the right password:

    - a staff member with a second factor needs a code it accepts (``code_failed``
      otherwise); the device is kept on the user for django-otp's ``login``;
    - one without a factor, while ``MFA_REQUIRED_FOR_STAFF`` is on, is valid but
      ``needs_enrolment``: the view sends them to set one up instead of signing them in;
      with the requirement off they enter with the password alone.

    A banned account is refused by name, as an inactive one is by Django, once the
    password was right (``banned``); every other failure is :data:`SIGN_IN_REFUSED`."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": SIGN_IN_REFUSED,
    }
    code = forms.CharField(
        label="Code",
        required=False,
        max_length=32,
        strip=True,
        help_text=(
            "From your authenticator app, or one of your recovery codes. Leave it empty "
            "if you have not set up two-factor authentication yet."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.banned = False
        self.code_failed = False
        self.needs_enrolment = False

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)  # inactive, not staff
        if ban_in_force(user) is not None:
            self.banned = True
            raise ValidationError("This account is banned.", code="banned")

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        user = self.get_user()
        if user is None:  # a field left empty: Django's own errors say which
            return cleaned_data
        if has_second_factor(user):
            device = admin_code_verify(user=user, code=cleaned_data.get("code", ""))
            if device is None:
                self.code_failed = True
                raise self.get_invalid_login_error()
            # django-otp's receiver of user_logged_in keeps it in the session.
            setattr(user, "otp_device", device)  # noqa: B010 (not a field of User)
        elif settings.MFA_REQUIRED_FOR_STAFF:
            self.needs_enrolment = True
        return cleaned_data


class AdminLoginView(LoginView):
    """Django's login view with the lockout of ``auth/login/`` around it: the attempt is
    counted up front (``LoginFailures``); a failure keeps the count, is audited
    (``login.failed``, or ``login.mfa_failed`` for a wrong code, with
    ``{"via": "admin"}``) and may lock; signing in resets the account's count."""

    form_class = AdminLoginForm
    authentication_form = AdminLoginForm
    admin_site_name = "admin"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        login = request.POST.get("username", "")
        self.account = user_by_login(login)
        self.lockout_key = lockout_key(login, self.account)
        self.failures = LoginFailures(request, self.lockout_key)
        try:
            self.failures.begin()
        except ApplicationError as error:
            return problem_response(error)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AdminLoginForm) -> HttpResponse:  # type: ignore[override]
        if form.banned:
            self.failures.succeeded()  # the right password: refused, not guessed
        else:
            login_failure_record(
                user=self.account,
                client=ClientInfo.from_request(self.request),
                locked_after=self.failures.failed(),
                kind=AuditKind.MFA_FAILED
                if form.code_failed
                else AuditKind.LOGIN_FAILED,
                payload=ADMIN,
            )
        return super().form_invalid(form)

    def form_valid(self, form: AdminLoginForm) -> HttpResponse:  # type: ignore[override]
        self.failures.succeeded()
        user = form.get_user()
        if form.needs_enrolment:
            enrolment_begin(self.request, user, next_url=self.next_url())
            return HttpResponseRedirect(
                reverse("admin:mfa_enrol", current_app=self.admin_site_name)
            )
        reset_login_failures(self.request, self.lockout_key)
        return super().form_valid(form)

    def next_url(self) -> str:
        return self.get_redirect_url() or reverse(
            "admin:index", current_app=self.admin_site_name
        )


# --- the enrolment a staff member without a second factor goes through -----------------


class EnrolmentState(TypedDict):
    """What the session holds between the password and the app's first code. It signs
    nobody in: the admin answers as to anyone signed out until the code was right."""

    user: str
    started: int  # when the password was checked (epoch seconds)
    hash: str  # the user's session hash then: a password change or revocation ends it
    next: str
    device: int | None  # the app set up for this enrolment


def enrolment_begin(request: HttpRequest, user: User, *, next_url: str) -> None:
    request.session.cycle_key()  # a fresh session id, as Django's login gives
    request.session[ENROLMENT_SESSION_KEY] = EnrolmentState(
        user=str(user.pk),
        started=int(time.time()),
        hash=user.get_session_auth_hash(),
        next=next_url,
        device=None,
    )


def enrolment_end(request: HttpRequest) -> None:
    request.session.pop(ENROLMENT_SESSION_KEY, None)


def enrolling_user(request: HttpRequest) -> tuple[SessionUser, EnrolmentState] | None:
    """The staff member whose enrolment this session holds, as the sign-in that proved
    the password: a ``SessionUser`` with ``amr`` ``["pwd"]`` and that ``auth_time``, as
    an API session would carry (``totp_confirm`` takes a recent one as re-authentication).
    ``None`` once it expired, or the account changed since: its password or sessions
    (the session hash), active, staff, ban, or a factor set up some other way."""
    state: EnrolmentState | None = request.session.get(ENROLMENT_SESSION_KEY)
    if state is None:
        return None
    user = cast(
        SessionUser | None,
        SessionUser.objects.filter(
            pk=state["user"], is_active=True, is_staff=True
        ).first(),
    )
    if (
        time.time() - state["started"] > ENROLMENT_SECONDS
        or user is None
        or not constant_time_compare(state["hash"], user.get_session_auth_hash())
        or ban_in_force(user) is not None
        or has_second_factor(user)
    ):
        enrolment_end(request)
        return None
    user.session_amr = AMR_PASSWORD
    user.session_auth_time = state["started"]
    return user, state


class EnrolmentForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )

    def __init__(self, *args: Any, password_needed: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if password_needed:
            self.fields["password"] = forms.CharField(
                label="Your password, again",
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                help_text="It has been a while since you entered it.",
            )


def app_setup(user: User, state: EnrolmentState) -> dict[str, str]:
    """The app this enrolment set up, shown again after a wrong code; the first visit
    sets one up (replacing any other unconfirmed one)."""
    device = totp_pending(user)
    if device is not None and device.pk == state["device"]:
        return totp_setup_details(device=device, email=user.email)
    details = totp_setup(actor=user)
    state["device"] = totp_pending(user).pk  # type: ignore[union-attr]  # just set up
    return details


class GatehouseAdminSite(AccountsSection, StaffTimezone, AdminSite):
    login_form = AdminLoginForm
    login_template = "admin/login.html"
    site_header = site_title = f"{settings.SITE_NAME} administration"

    def has_permission(self, request: HttpRequest) -> bool:
        """Every admin request: an active staff account (Django reloads it, and ends
        the session once all of its sessions were revoked: ``User._get_session_auth_hash``),
        not banned (one indexed query), with its second factor."""
        if not super().has_permission(request):
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

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path("mfa/enrol/", self.mfa_enrol, name="mfa_enrol"),
            *super().get_urls(),
        ]

    @method_decorator(never_cache)
    @login_not_required
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Django's ``AdminSite.login`` with :class:`AdminLoginView`."""
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if (
            REDIRECT_FIELD_NAME not in request.GET
            and REDIRECT_FIELD_NAME not in request.POST
        ):
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        view = AdminLoginView.as_view(
            extra_context=context,
            template_name=self.login_template,
            admin_site_name=self.name,
        )
        return cast(HttpResponse, view(request))

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    @login_not_required
    def mfa_enrol(self, request: HttpRequest) -> HttpResponse:
        """Set up an authenticator app, then enter: the QR code and the secret, a code
        from the app to confirm it (counted and audited as the login's wrong codes), and
        the recovery codes, shown once. Only for a session that just proved a staff
        member's password and holds no factor (:func:`enrolling_user`); anyone else is
        sent to the login page."""
        found = enrolling_user(request)
        login_url = reverse("admin:login", current_app=self.name)
        if found is None:
            return HttpResponseRedirect(login_url)
        user, state = found
        details = app_setup(user, state)
        request.session[ENROLMENT_SESSION_KEY] = state
        form = EnrolmentForm(
            request.POST if request.method == "POST" else None,
            password_needed=time.time() - state["started"]
            > settings.REAUTH_WINDOW_SECONDS,
        )
        if form.is_valid():
            failures = LoginFailures(request, account_lockout_key(user))
            try:
                failures.begin()
            except ApplicationError as error:
                return problem_response(error)
            codes = self._confirm(request, user, form, failures)
            if codes is not None:
                return self._signed_in(request, user, state, codes)
        return render(
            request,
            "admin/mfa_enrol.html",
            {
                **self.each_context(request),
                "title": "Set up two-factor authentication",
                "form": form,
                "secret": details["secret"],
                "otpauth_uri": details["otpauth_uri"],
                # segno writes the SVG from our own otpauth URI: no markup of anyone's.
                "qr_svg": mark_safe(  # noqa: S308
                    segno.make(details["otpauth_uri"], error="m").svg_inline(
                        scale=5, title="QR code for your authenticator app"
                    )
                ),
            },
        )

    def _confirm(
        self,
        request: HttpRequest,
        user: SessionUser,
        form: EnrolmentForm,
        failures: LoginFailures,
    ) -> list[str] | None:
        """``totp_confirm`` with the form's code (and password, when asked for); the
        recovery codes, or ``None`` with the form's errors set."""
        client = ClientInfo.from_request(request)
        try:
            codes = totp_confirm(
                actor=user,
                code=form.cleaned_data["code"],
                password=form.cleaned_data.get("password"),
                client=client,
            )
        except ValidationError as error:
            # A wrong code, or a wrong password (which totp_confirm audits itself).
            login_failure_record(
                user=user,
                client=client,
                locked_after=failures.failed(),
                kind=None if isinstance(error, WrongPassword) else AuditKind.MFA_FAILED,
                payload={**ADMIN, "enrolment": True},
            )
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
            return None
        failures.succeeded()
        reset_login_failures(request, account_lockout_key(user))
        return codes

    def _signed_in(
        self,
        request: HttpRequest,
        user: SessionUser,
        state: EnrolmentState,
        codes: list[str],
    ) -> HttpResponse:
        """The enrolment is spent; the staff member signs in, verified by the new app."""
        enrolment_end(request)
        account = User.objects.get(pk=user.pk)
        auth_login(request, account, backend=MODEL_BACKEND)
        otp_login(request, TOTPAuthenticator.objects.get(user=account, confirmed=True))
        return render(
            request,
            "admin/mfa_recovery_codes.html",
            {
                **self.each_context(request),
                "title": "Your recovery codes",
                "codes": codes,
                "next": state["next"],  # checked by the login view (get_redirect_url)
            },
        )
