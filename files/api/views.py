"""``/api/v1/files/``: a user's files and those shared with them.

Thin views: ``files.selectors`` reads (a file the caller may not see is ``404
not_found``, exactly as one that does not exist), ``files.services`` writes. An upload
is received by ``files.uploads.limit_upload``'s handlers (the size limit checked while
the body streams in, the bytes on disk, never in memory) before ``request.data`` is
touched.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import AuthenticatedRequest
from config.client import ClientInfo
from config.openapi import problem_example, problem_response
from config.parsers import JSONParser
from files.constants import SharePermission
from files.models import StoredFile
from files.selectors import (
    file_access,
    file_not_found,
    files_visible_to,
    shares_of,
)
from files.services import (
    DESCRIPTION_MAX_LENGTH,
    file_delete,
    file_share,
    file_unshare,
    file_update,
    file_upload,
)
from files.uploads import limit_upload

TAGS = ["files"]
DOWNLOAD_BLOCK_BYTES = 64 * 1024
ACCESS_CHOICES = ["owner", "view", "change", "staff"]
ACCESS_HELP = (
    "How the caller reaches the file: `owner`, a share (`view`, or `change`: view "
    "and edit the description), or `staff`."
)
FILE_EXAMPLE_VALUE: dict[str, Any] = {
    "id": "5d0c9a4e-0f1b-4c55-8d3e-2a9f7c6b1e08",
    "name": "report.pdf",
    "content_type": "application/pdf",
    "size": 48213,
    "description": "Q3 figures",
    "created_at": "2026-11-21T10:00:00Z",
    "download_url": "https://gatehouse.example/api/v1/files/"
    "5d0c9a4e-0f1b-4c55-8d3e-2a9f7c6b1e08/download/",
    "owner": "0b8f1e9c-5a57-4d0c-9f0e-3b5d3f8f2a61",
    "access": "owner",
}
FILE_EXAMPLE = OpenApiExample(
    "file", value=FILE_EXAMPLE_VALUE, response_only=True, status_codes=["200", "201"]
)
DETAIL_EXAMPLE = OpenApiExample(
    "file",
    value={
        **FILE_EXAMPLE_VALUE,
        "shares": [
            {"user": "7c1e4b9a-3d2f-4e8a-9b6c-5a4d3e2f1a0b", "permission": "view"}
        ],
    },
    response_only=True,
    status_codes=["200"],
)
NOT_FOUND_FILE = problem_response(
    "No such file, or one the caller may not see (the same answer).",
    problem_example("not_found", "No such file."),
)
FILE_TOO_LARGE = problem_example(
    "file_too_large", "The file is larger than 10,485,760 bytes.", max_bytes=10485760
)
QUOTA_EXCEEDED = problem_example(
    "quota_exceeded",
    "Storing this file would take your files past 104,857,600 bytes.",
    quota_bytes=104857600,
    used_bytes=104000000,
    file_bytes=900000,
)


def access_of(stored: StoredFile, actor_id: Any) -> str:
    if stored.owner_id == actor_id:
        return "owner"
    if getattr(stored, "shared_change", False):
        return str(SharePermission.CHANGE)
    if getattr(stored, "shared", False):
        return str(SharePermission.VIEW)
    return "staff"


class FileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(
        source="original_name",
        help_text="The uploaded file's name, cleaned (no path, no control characters).",
    )
    content_type = serializers.CharField(
        help_text="What the content is, read from the content itself."
    )
    size = serializers.IntegerField(help_text="Bytes.")
    description = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()
    owner = serializers.UUIDField(source="owner_id", help_text="The owner's user id.")
    access = serializers.SerializerMethodField(help_text=ACCESS_HELP)

    def get_download_url(self, stored: StoredFile) -> str:
        request = self.context["request"]
        return request.build_absolute_uri(
            reverse("files:download", kwargs={"file_id": stored.pk})
        )

    @extend_schema_field(serializers.ChoiceField(choices=ACCESS_CHOICES))
    def get_access(self, stored: StoredFile) -> str:
        return access_of(stored, self.context["request"].user.pk)


class ShareOutputSerializer(serializers.Serializer):
    user = serializers.UUIDField(help_text="The sharee's user id.")
    permission = serializers.ChoiceField(choices=SharePermission.choices)


class FileDetailOutputSerializer(FileOutputSerializer):
    shares = serializers.SerializerMethodField(
        help_text="Who the file is shared with: for its owner and staff; null for a "
        "sharee, who is not told who else holds it."
    )

    @extend_schema_field(ShareOutputSerializer(many=True, allow_null=True))
    def get_shares(self, stored: StoredFile) -> list[dict[str, Any]] | None:
        if access_of(stored, self.context["request"].user.pk) in {"owner", "staff"}:
            return [
                {"user": share["user_id"], "permission": share["permission"]}
                for share in shares_of(stored.pk)
            ]
        return None


class FileListApi(GenericAPIView):
    """Upload a file; list the caller's own files and those shared with them."""

    required_scopes = {"GET": "files:read", "POST": "files:write"}
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    serializer_class = FileOutputSerializer
    rate_limit_group = {"POST": "uploads", "*": "default"}  # limits.policy

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            allow_empty_file=False,
            help_text="The file's bytes. Its type is read from its content (not its "
            "name or declared type) and must be one of `FILE_ALLOWED_TYPES` (see "
            "`GET config/`).",
        )
        description = serializers.CharField(
            required=False, allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH
        )

    @extend_schema(
        operation_id="listFiles",
        tags=TAGS,
        summary="The caller's files and the files shared with them",
        description="Newest first. `access` says how the caller reaches each one.",
        responses=FileOutputSerializer(many=True),
        examples=[FILE_EXAMPLE],
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        page = self.paginate_queryset(files_visible_to(request.user))
        output = FileOutputSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(output.data)

    @extend_schema(
        operation_id="uploadFile",
        tags=TAGS,
        summary="Upload a file",
        description=(
            "`multipart/form-data` with `file` and an optional `description`. The "
            "size limit (`FILE_MAX_BYTES`) is enforced while the body arrives: a "
            "bigger upload is cut off early. The type is what the content is "
            "(a PDF named `x.png` is stored as `application/pdf`). The caller's "
            "files together may not pass `FILE_QUOTA_BYTES`."
        ),
        request={"multipart/form-data": InputSerializer},
        responses={
            201: FileOutputSerializer,
            413: problem_response(
                "The file is larger than `FILE_MAX_BYTES`, or would take the "
                "caller's files past `FILE_QUOTA_BYTES`.",
                FILE_TOO_LARGE,
                QUOTA_EXCEEDED,
            ),
            415: problem_response(
                "The content is of a type that is not accepted (or the body is not "
                "`multipart/form-data`).",
                problem_example(
                    "unsupported_file_type",
                    "This kind of file is not accepted.",
                    detected_type="text/html",
                    allowed_types=["image/png", "application/pdf", "text/plain"],
                ),
            ),
        },
        examples=[FILE_EXAMPLE],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        limit_upload(request, limit=settings.FILE_MAX_BYTES)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        stored = file_upload(
            actor=request.user,
            content=upload,
            name=upload.name or "",
            description=serializer.validated_data.get("description", ""),
            client=ClientInfo.from_request(request),
        )
        output = FileOutputSerializer(stored, context={"request": request})
        return Response(output.data, status=status.HTTP_201_CREATED)


class FileDetailApi(APIView):
    required_scopes = {
        "GET": "files:read",
        "PATCH": "files:write",
        "DELETE": "files:write",
    }
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        description = serializers.CharField(
            allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH
        )

    @extend_schema(
        operation_id="getFile",
        tags=TAGS,
        summary="A file's metadata",
        description="The owner, a sharee, or staff; 404 for anyone else.",
        responses={200: FileDetailOutputSerializer, 404: NOT_FOUND_FILE},
        examples=[DETAIL_EXAMPLE],
    )
    def get(self, request: AuthenticatedRequest, file_id: uuid.UUID) -> Response:
        stored = file_access(request.user, file_id).file
        output = FileDetailOutputSerializer(stored, context={"request": request})
        return Response(output.data)

    @extend_schema(
        operation_id="updateFile",
        tags=TAGS,
        summary="Change a file's description",
        description="The owner, or a sharee given `change`. Others who see the file "
        "(a `view` sharee, staff) get 403; anyone else 404.",
        request=InputSerializer,
        responses={200: FileDetailOutputSerializer, 404: NOT_FOUND_FILE},
        examples=[DETAIL_EXAMPLE],
    )
    def patch(self, request: AuthenticatedRequest, file_id: uuid.UUID) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        file_update(
            actor=request.user,
            file_id=file_id,
            description=serializer.validated_data["description"],
            client=ClientInfo.from_request(request),
        )
        stored = file_access(request.user, file_id).file
        output = FileDetailOutputSerializer(stored, context={"request": request})
        return Response(output.data)

    @extend_schema(
        operation_id="deleteFile",
        tags=TAGS,
        summary="Delete a file",
        description="The owner, or staff who may moderate the owner (403 for other "
        "staff, 404 for anyone else). The bytes leave the storage with it.",
        responses={204: None, 404: NOT_FOUND_FILE},
    )
    def delete(self, request: AuthenticatedRequest, file_id: uuid.UUID) -> Response:
        file_delete(
            actor=request.user, file_id=file_id, client=ClientInfo.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def content_disposition(name: str) -> str:
    """``attachment`` with the name twice (RFC 6266): an ASCII ``filename`` for old
    clients and the exact UTF-8 ``filename*``."""
    fallback = "".join(
        character if 32 <= ord(character) < 127 and character not in '"\\%' else "_"
        for character in name
    )
    return (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    )


def download_response(media_type: str) -> OpenApiResponse:
    return OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The bytes, with the stored content type (one of "
        "`FILE_ALLOWED_TYPES` when the file was uploaded).",
        examples=[
            OpenApiExample(
                "a file",
                value="Q3 figures\n",
                response_only=True,
                status_codes=["200"],
                media_type=media_type,
            )
        ],
    )


class FileDownloadApi(APIView):
    required_scopes = {"GET": "files:read"}
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="downloadFile",
        tags=TAGS,
        summary="A file's bytes",
        description=(
            "The owner, a sharee, or staff; 404 for anyone else. The stored content "
            "type, `Content-Disposition: attachment` with the file's name, `ETag` "
            "(the SHA-256 of the bytes): send it back in `If-None-Match` for a 304."
        ),
        responses={
            # One entry per type a file may have been stored as: the answer carries the
            # stored type (``FILE_ALLOWED_TYPES``), octet-stream first for clients that
            # read one.
            **{
                (200, media_type): download_response(media_type)
                for media_type in [
                    "application/octet-stream",
                    *settings.FILE_ALLOWED_TYPES,
                ]
            },
            304: OpenApiResponse(description="`If-None-Match` matched the `ETag`."),
            404: NOT_FOUND_FILE,
        },
    )
    def get(
        self, request: AuthenticatedRequest, file_id: uuid.UUID
    ) -> HttpResponseBase:
        stored = file_access(request.user, file_id).file
        etag = f'"{stored.sha256}"'
        headers = {
            "ETag": etag,
            # Per caller, and asked again each time: a share withdrawn takes effect.
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x".
        sent = {
            tag.removeprefix("W/")
            for tag in parse_etags(request.headers.get("If-None-Match", ""))
        }
        if etag in sent or "*" in sent:
            response: HttpResponseBase = HttpResponse(status=304, headers=headers)
            return response
        try:
            content = default_storage.open(stored.storage_name, "rb")
        except (FileNotFoundError, OSError):
            # The row lost its bytes (files_gc reports it): as good as gone.
            raise file_not_found() from None
        response = FileResponse(
            content, content_type=stored.content_type, headers=headers
        )
        # Granian offers no wsgi.file_wrapper: Django iterates the file itself, by
        # FileResponse's 4 KB blocks unless told otherwise (256 turns of the loop per MB).
        response.block_size = DOWNLOAD_BLOCK_BYTES
        response["Content-Disposition"] = content_disposition(stored.original_name)
        response["Content-Length"] = str(stored.size)
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Any:
        # A FileResponse is no DRF Response: it skips content negotiation.
        if isinstance(response, Response):
            return super().finalize_response(request, response, *args, **kwargs)
        return response


class FileSharesApi(APIView):
    required_scopes = {"POST": "files:write"}
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        user = serializers.UUIDField(help_text="The user id to share with.")
        permission = serializers.ChoiceField(
            choices=SharePermission.choices,
            help_text="`view`: see and download; `change`: also edit the description.",
        )

    @extend_schema(
        operation_id="shareFile",
        tags=TAGS,
        summary="Share a file with another user",
        description=(
            "The owner alone (403 for a sharee or staff, 404 for anyone else). "
            "Sharing again with the same user replaces the permission. The user must "
            "be one the caller finds in the user directory: an unknown id, a "
            "deactivated account, one that blocked the caller and the caller's own id "
            'are all `400` with `user`: "No such user."'
        ),
        request=InputSerializer,
        responses={201: ShareOutputSerializer, 404: NOT_FOUND_FILE},
        examples=[
            OpenApiExample(
                "share",
                value={
                    "user": "7c1e4b9a-3d2f-4e8a-9b6c-5a4d3e2f1a0b",
                    "permission": "view",
                },
            )
        ],
    )
    def post(self, request: AuthenticatedRequest, file_id: uuid.UUID) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        share = file_share(
            actor=request.user,
            file_id=file_id,
            user_id=serializer.validated_data["user"],
            permission=SharePermission(serializer.validated_data["permission"]),
            client=ClientInfo.from_request(request),
        )
        return Response(
            ShareOutputSerializer(share).data, status=status.HTTP_201_CREATED
        )


class FileShareDetailApi(APIView):
    required_scopes = {"DELETE": "files:write"}
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="unshareFile",
        tags=TAGS,
        summary="Stop sharing a file with a user",
        description="The owner alone (403 for a sharee or staff, 404 for anyone "
        "else); 204 also when the file was not shared with that user.",
        responses={204: None, 404: NOT_FOUND_FILE},
    )
    def delete(
        self, request: AuthenticatedRequest, file_id: uuid.UUID, user_id: uuid.UUID
    ) -> Response:
        file_unshare(
            actor=request.user,
            file_id=file_id,
            user_id=user_id,
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
