"""Second factors in the admin, to read only: which accounts have which factor, since
when, last used when. They are added, confirmed and removed by their owners through the
MFA services (``accounts.services.mfa``), and by staff only with the user list's "reset
two-factor authentication" action: an edit page here would bypass both (and show the
secrets). django-otp's own page for its email devices, a raw editor, is taken down."""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.admin.base import ReadOnlyAdminMixin
from accounts.models import EmailCodeDevice, RecoveryCodeSet, TOTPAuthenticator

admin.site.unregister(EmailDevice)  # registered by its app, which comes first


class FactorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What every factor's page shares. Each names the fields it shows (``fields``):
    never a secret, a code or a digest."""

    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    show_full_result_count = False


@admin.register(TOTPAuthenticator)
class AuthenticatorAppAdmin(FactorAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")


@admin.register(EmailCodeDevice)
class EmailedCodesAdmin(FactorAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    fields = ("user", "name", "confirmed", "email", "created_at", "last_used_at")


@admin.register(RecoveryCodeSet)
class RecoveryCodesAdmin(FactorAdmin):
    list_display = ("user", "name", "confirmed", "codes_left")
    fields = ("user", "name", "confirmed", "codes_left")
    readonly_fields = ("codes_left",)

    @admin.display(description="codes left")
    def codes_left(self, codes: RecoveryCodeSet) -> int:
        return codes.codes.count()
