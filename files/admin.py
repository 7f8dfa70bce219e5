"""Files in the admin: every user's files, to find, look at and delete.

Staff whose powers are in force (``accounts.access.acts_as_staff``) see every file;
deleting goes through ``files.services.file_delete`` (one file, or the bulk action),
which asserts ``Action.DELETE_FILE`` on the owner and audits with the staff member as
actor -- a file they may not delete is named in a message and left alone. Nothing here
adds a file or changes its bytes or metadata. Images show a thumbnail served by an
admin-only view that checks the same rule and streams the stored bytes: no public media
URL exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Exists, OuterRef, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from accounts.access import Action, acts_as_staff, may_delete_file, may_take
from accounts.admin.base import acting_user
from accounts.timezones import moment
from config.client import ClientInfo
from config.errors import ApplicationError
from files.models import StoredFile, StoredFilePermission
from files.services import file_delete

# Shown as thumbnails (browsers render these; nothing else is sent as an image).
THUMBNAIL_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


class SharedFilter(admin.SimpleListFilter):
    title = "shared"
    parameter_name = "shared"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Shared with someone"), ("no", "Not shared")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[StoredFile]
    ) -> QuerySet[StoredFile]:
        shared = Exists(
            StoredFilePermission.objects.filter(content_object=OuterRef("pk"))
        )
        if self.value() == "yes":
            return queryset.filter(shared)
        if self.value() == "no":
            return queryset.exclude(shared)
        return queryset


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    list_display = (
        "thumbnail",
        "original_name",
        "owner",
        "content_type",
        "file_size",
        "created",
        "shared_with",
    )
    list_display_links = ("original_name",)
    list_filter = ("content_type", SharedFilter, "created_at")
    list_select_related = ("owner",)
    search_fields = ("original_name", "description", "owner__username", "=sha256")
    search_help_text = (
        "Part of the file's name or description, the owner's username, or the exact "
        "SHA-256 of the bytes."
    )
    fields = (
        "preview",
        "id",
        "owner",
        "original_name",
        "content_type",
        "file_size",
        "sha256",
        "description",
        "created",
        "shared_with",
    )
    readonly_fields = fields
    ordering = ("-created_at",)
    show_facets = admin.ShowFacets.NEVER

    # --- read-only, deleted through the service --------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: StoredFile | None = None
    ) -> bool:
        return False

    def has_view_permission(
        self, request: HttpRequest, obj: StoredFile | None = None
    ) -> bool:
        """Staff whose powers are in force see every file (``accounts.access``, as the
        API's ``may_see_file``)."""
        return acts_as_staff(acting_user(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_delete_permission(
        self, request: HttpRequest, obj: StoredFile | None = None
    ) -> bool:
        actor = acting_user(request)
        if obj is None:
            return may_take(actor, Action.DELETE_FILE)
        return may_delete_file(actor, obj.owner)

    def delete_model(self, request: HttpRequest, obj: StoredFile) -> None:
        try:
            file_delete(
                actor=acting_user(request),
                file_id=obj.pk,
                client=ClientInfo.from_request(request),
            )
        except ApplicationError as error:
            raise PermissionDenied(str(error)) from error

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """The bulk action's confirmation: the files and their shares, with no
        "permission needed" refusal of the whole batch for one file the staff member
        may not delete -- ``delete_queryset`` asks the service about each and names
        those it kept."""
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[StoredFile]
    ) -> None:
        """The bulk action: each file through ``file_delete``; one the staff member
        may not delete is named in an error message and kept."""
        actor = acting_user(request)
        client = ClientInfo.from_request(request)
        refused = []
        for stored in queryset.select_related("owner"):
            try:
                file_delete(actor=actor, file_id=stored.pk, client=client)
            except ApplicationError:
                refused.append(str(stored))
        if refused:
            self.message_user(
                request, f"Not allowed to delete: {', '.join(refused)}.", messages.ERROR
            )

    # --- columns ----------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[StoredFile]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("shares__user", "shares__permission")
        )

    @admin.display(description="size", ordering="size")
    def file_size(self, stored: StoredFile) -> str:
        return filesizeformat(stored.size)

    @admin.display(description="created", ordering="created_at")
    def created(self, stored: StoredFile) -> str:
        return moment(stored.created_at)

    @admin.display(description="shared with")
    def shared_with(self, stored: StoredFile) -> str:
        shares = sorted(
            f"{share.user.username} ({share.permission.codename.split('_')[0]})"
            for share in stored.shares.all()
        )
        return ", ".join(shares) or "—"

    @admin.display(description="")
    def thumbnail(self, stored: StoredFile) -> str:
        return self._image(stored, height=40)

    @admin.display(description="preview")
    def preview(self, stored: StoredFile) -> str:
        return self._image(stored, height=240) or "—"

    def _image(self, stored: StoredFile, *, height: int) -> str:
        if stored.content_type not in THUMBNAIL_TYPES:
            return ""
        url = reverse("admin:files_storedfile_image", args=[stored.pk])
        return format_html(
            '<img src="{}" alt="" style="max-height:{}px;max-width:{}px" '
            'loading="lazy">',
            url,
            height,
            height * 2,
        )

    # --- the image view ---------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<uuid:file_id>/image/",
                self.admin_site.admin_view(self.image_view),
                name="files_storedfile_image",
            ),
            *super().get_urls(),
        ]

    def image_view(self, request: HttpRequest, file_id: uuid.UUID) -> HttpResponseBase:
        """The stored bytes of an image, to staff who may see every file: streamed
        from the storage, never through a public URL."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        stored = StoredFile.objects.filter(
            pk=file_id, content_type__in=THUMBNAIL_TYPES
        ).first()
        if stored is None:
            raise Http404("No such image.")
        try:
            content = default_storage.open(stored.storage_name, "rb")
        except OSError:
            raise Http404("The image's bytes are gone.") from None
        response = FileResponse(content, content_type=stored.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, max-age=300"
        response["ETag"] = f'"{stored.sha256}"'
        return response


# The avatars admin lives beside it, registered when its module loads.
from files import admin_avatars  # noqa: E402, F401
