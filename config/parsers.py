"""The API's request parsers."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as BaseJSONParser


class JSONParser(BaseJSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than Python's recursion limit.

    ``json.loads`` raises ``RecursionError`` (not ``ValueError``) on ~1,000 levels of
    nesting, which DRF does not catch: a 4 KB body would be a 500.
    """

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Any = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from None
