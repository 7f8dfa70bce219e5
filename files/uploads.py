"""Receiving an upload: a size limit enforced while the body streams in, on disk.

Django parses ``multipart/form-data`` through upload handlers, chunk by chunk. A view
that accepts a file calls :func:`limit_upload` before it reads ``request.data``:

- a declared ``Content-Length`` beyond the limit (and the form's overhead) is refused
  before a byte is read;
- otherwise :class:`SizeLimitHandler` counts the file's bytes as they arrive and stops
  the parse at the first chunk past the limit (``StopUpload(connection_reset=True)``:
  the rest of the body is never read), then raises ``413 file_too_large`` once Django
  has closed and deleted what it had written;
- what is accepted goes to a temporary file (``TemporaryFileUploadHandler``), never
  into memory: a process's memory stays flat whatever the size.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import (
    FileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest

from config.error_codes import ApplicationError

# Room for the multipart boundaries, part headers and small text fields (a description)
# around the file in a request whose Content-Length is checked up front.
FORM_OVERHEAD_BYTES = 64 * 1024


def too_large(limit: int) -> ApplicationError:
    return ApplicationError(
        "file_too_large",
        f"The file is larger than {limit:,} bytes.",
        extra={"max_bytes": limit},
    )


class SizeLimitHandler(FileUploadHandler):
    """Stops the upload at the first chunk past ``limit`` bytes (over every file of the
    request: a view accepts one). Listed first, so it sees each chunk before the handler
    that stores it."""

    def __init__(self, request: HttpRequest, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length and content_length > self.limit + FORM_OVERHEAD_BYTES:
            raise too_large(self.limit)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file

    def upload_complete(self) -> None:
        # Called after Django closed (and so deleted) the temporary files.
        if self.exceeded:
            raise too_large(self.limit)


def limit_upload(request: Any, *, limit: int) -> None:
    """Install the handlers on ``request`` (Django's, or DRF's ``Request``) before its
    body is read."""
    http_request: HttpRequest = getattr(request, "_request", request)
    http_request.upload_handlers = [
        SizeLimitHandler(http_request, limit=limit),
        TemporaryFileUploadHandler(http_request),
    ]
