"""Email addresses (allauth's) in the admin, to read only: which are verified, which is
primary. An account's address changes only through the verified change
(``email_change_request`` by its owner, ``email_change_by_staff`` from the user's page):
allauth's own page would let staff write an address, or mark one verified, directly."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib import admin

from accounts.admin.base import ReadOnlyAdminMixin

admin.site.unregister(EmailAddress)  # registered by its app, which comes first


@admin.register(EmailAddress)
class EmailAddressAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("email", "user", "primary", "verified")
    list_filter = ("primary", "verified")
    search_fields = ("email", "user__username")
    list_select_related = ("user",)
    fields = ("email", "user", "primary", "verified")
    show_full_result_count = False
