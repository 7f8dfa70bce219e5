"""The user page's "Change email address…": the verified change, started by staff.

The address is never a field of the page. Staff whom ``accounts.access`` lets take
``change_email`` on the account give the new address; ``email_change_by_staff`` sends it
a verification link, and the account's email changes only once the link is followed,
when the old address is told (as for a change the owner starts with ``me/email/``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from accounts.access import Action, may
from accounts.admin.base import acting_user
from accounts.models import User
from accounts.services.profile import email_change_by_staff
from config.client import ClientInfo
from config.errors import ApplicationError

SENT = "A link was sent to the new address; the email changes when it is followed."


class EmailChangeForm(forms.Form):
    # Checked by the service (canonical_email), as the API checks it.
    new_email = forms.CharField(
        label="New email address", max_length=254, widget=forms.EmailInput
    )


class EmailChangePage(admin.ModelAdmin):
    """Mixed into ``UserAdmin`` before Django's ``UserAdmin``."""

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<id>/email/",
                self.admin_site.admin_view(self.user_change_email),
                name="accounts_user_change_email",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: User | None = None,
    ) -> HttpResponse:
        context["may_change_email"] = obj is not None and may(
            acting_user(request), Action.CHANGE_EMAIL, obj
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def user_change_email(self, request: HttpRequest, id: str) -> HttpResponse:
        user = self.get_object(request, unquote(id))
        if user is None:
            self.message_user(request, "No such user.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:index"))
        if not may(acting_user(request), Action.CHANGE_EMAIL, user):
            raise PermissionDenied
        page = reverse("admin:accounts_user_change", args=(user.pk,))
        form = EmailChangeForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                email_change_by_staff(
                    actor=acting_user(request),
                    user_id=user.pk,
                    new_email=form.cleaned_data["new_email"],
                    client=ClientInfo.from_request(request),
                )
            except ValidationError as error:
                form.add_error("new_email", error.message_dict.get("new_email", []))
            except ApplicationError as error:
                self.message_user(request, error.detail, messages.ERROR)
                return HttpResponseRedirect(page)
            else:
                self.message_user(request, SENT, messages.SUCCESS)
                return HttpResponseRedirect(page)
        return TemplateResponse(
            request,
            "admin/accounts/user/change_email.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Change the email address of {user.username}",
                "form": form,
                "original": user,
                "opts": self.opts,
                "page_url": page,
            },
        )
