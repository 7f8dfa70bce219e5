"""``/api/v1/users/me/avatar/`` and ``/api/v1/users/{id}/avatar/``: a user's picture.

Mounted from the files app (``files.api.avatar_urls``) beside accounts' ``users/``
routes: accounts never imports files, and names the image's route (``avatars:avatar``)
only to link to it from profiles (``accounts.selectors.avatar_path``).

Caching: the URL of an avatar never changes, so the answer says ``public, max-age=60,
must-revalidate``: browsers and proxies reuse it for a minute (a page of fifty faces
costs no request), then revalidate with ``If-None-Match``, which costs one query and no
bytes (304). A new upload shows everywhere within a minute; no version in the profile's
URL, which would cost the profile a query.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import AuthenticatedRequest
from config.client import ClientInfo
from config.openapi import problem_example, problem_response
from files.avatars import AvatarToServe, avatar_remove, avatar_set, avatar_to_serve
from files.images import generated_avatar
from files.uploads import limit_upload

TAGS = ["users"]
CACHE_CONTROL = "public, max-age=60, must-revalidate"
EXAMPLE_URL = (
    "https://api.example.com/api/v1/users/0b8f0f6e-5d1c-4a86-9a55-2b2f3c1f7e10/avatar/"
)


def avatar_url(request: Request, user_id: uuid.UUID) -> str:
    return request.build_absolute_uri(
        reverse("avatars:avatar", kwargs={"user_id": user_id})
    )


class MeAvatarApi(APIView):
    """The caller's avatar: upload or remove."""

    required_scopes = {"PUT": "users:write", "DELETE": "users:write"}
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    rate_limit_group = {"PUT": "uploads", "*": "default"}  # limits.policy

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="A PNG, JPEG, GIF, WebP or BMP image (by content, whatever its "
            "name), at most `AVATAR_MAX_BYTES` bytes and `AVATAR_MAX_PIXELS` pixels."
        )

    class OutputSerializer(serializers.Serializer):
        avatar_url = serializers.URLField(
            help_text="The image's address (`GET users/{id}/avatar/`): the same for "
            "every version of the avatar; revalidate with `If-None-Match`."
        )

    @extend_schema(
        operation_id="setMyAvatar",
        tags=TAGS,
        summary="Upload the caller's avatar",
        description=(
            "The image is checked by its content, decoded under a pixel limit, turned "
            "upright (EXIF orientation), cropped to its centre square, scaled to at most "
            "512x512 and stored as a new PNG: none of the original file is kept (EXIF, "
            "GPS, other frames of an animation, anything appended). Replaces the "
            "previous avatar."
        ),
        request={"multipart/form-data": InputSerializer},
        responses={
            200: OutputSerializer,
            400: problem_response(
                "No `file`, or an image that is corrupt, truncated or has too many "
                "pixels (`invalid_image`).",
                problem_example(
                    "invalid_image", "The image has more than 40,000,000 pixels."
                ),
                problem_example(
                    "validation_error",
                    "No file was submitted.",
                    errors={"file": ["No file was submitted."]},
                ),
            ),
            413: problem_response(
                "The file is larger than `AVATAR_MAX_BYTES` (5 MB by default).",
                problem_example(
                    "file_too_large", "The file is larger than 5,242,880 bytes."
                ),
            ),
            415: problem_response(
                "Not a PNG, JPEG, GIF, WebP or BMP image (SVG, PDF...), or not a "
                "multipart form.",
                problem_example(
                    "unsupported_file_type",
                    "An avatar must be a PNG, JPEG, GIF, WebP or BMP image.",
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "uploaded", value={"avatar_url": EXAMPLE_URL}, response_only=True
            )
        ],
    )
    def put(self, request: AuthenticatedRequest) -> Response:
        limit_upload(request, limit=settings.AVATAR_MAX_BYTES)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            avatar_set(
                user=request.user,
                actor=request.user,
                client=ClientInfo.from_request(request),
                upload=upload,
            )
        finally:
            upload.close()  # the temporary file goes at once
        output = {"avatar_url": avatar_url(request, request.user.pk)}
        return Response(self.OutputSerializer(output).data)

    @extend_schema(
        operation_id="removeMyAvatar",
        tags=TAGS,
        summary="Remove the caller's avatar",
        description="The generated avatar (initials on a colour) is served again.",
        request=None,
        responses={204: None},
    )
    def delete(self, request: AuthenticatedRequest) -> Response:
        avatar_remove(
            user=request.user,
            actor=request.user,
            client=ClientInfo.from_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserAvatarApi(APIView):
    """Anyone's avatar, for an ``<img src>``: no credentials are read (an image request
    carries none), so the answer is the same for everyone and a shared cache may keep it."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="getUserAvatar",
        tags=TAGS,
        summary="A user's avatar",
        description=(
            "The uploaded image, or a generated PNG with the user's initials on a "
            "colour of their own. Always `image/png`, at most 512x512, with an `ETag`: "
            "send it back as `If-None-Match` to get `304` with no body. "
            "`Cache-Control: public, max-age=60, must-revalidate`. A deactivated "
            "account shows its generated avatar; an unknown id answers 404 like any "
            "unknown route."
        ),
        responses={
            (200, "image/png"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The PNG."
            ),
            304: OpenApiResponse(
                description="Not modified: the `If-None-Match` ETag is current."
            ),
            404: problem_response(
                "No such user.", problem_example("not_found", "Not found.")
            ),
        },
        examples=[
            OpenApiExample(
                "a PNG",
                value="(the PNG's bytes)",
                response_only=True,
                media_type="image/png",
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request, user_id: uuid.UUID) -> HttpResponseBase:
        avatar = avatar_to_serve(user_id)
        etag = f'"{avatar.etag}"'
        response: HttpResponseBase
        if _matches(request, avatar.etag):
            response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = _image(avatar)
        response["ETag"] = etag
        response["Cache-Control"] = CACHE_CONTROL
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _matches(request: Request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    if not header:
        return False
    tags = parse_etags(header)
    # Weak comparison (RFC 9110 13.1.2), as If-None-Match asks.
    return "*" in tags or any(tag.removeprefix("W/") == f'"{etag}"' for tag in tags)


def _image(avatar: AvatarToServe) -> HttpResponseBase:
    if avatar.storage_name:
        # Streamed from the storage: a local file goes to the server's sendfile
        # (wsgi.file_wrapper), an S3 object in chunks.
        return FileResponse(
            default_storage.open(avatar.storage_name, "rb"), content_type="image/png"
        )
    png = generated_avatar(avatar.user_id, avatar.initials, settings.AVATAR_SIZE)
    return HttpResponse(png, content_type="image/png")
