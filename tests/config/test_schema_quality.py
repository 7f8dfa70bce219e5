"""What a generated client needs from every operation of the OpenAPI schema.

Frontend teams generate their client from ``/api/schema/`` (openapi-typescript,
openapi-python-client). These tests walk every operation of the generated schema, so an
endpoint added later fails here when it forgets one of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# A name a client author would write: camelCase, no underscore. drf-spectacular's default
# (``auth_login_create``, ``users_me_partial_update``) always has one, so a view without an
# explicit ``@extend_schema(operation_id=...)`` fails here.
OPERATION_ID = re.compile(r"[a-z][a-zA-Z0-9]*")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_an_explicit_camel_case_operation_id(
    schema: dict[str, Any],
) -> None:
    wrong = {
        name: operation.get("operationId")
        for name, operation in operations(schema)
        if not OPERATION_ID.fullmatch(operation.get("operationId", ""))
    }

    assert not wrong, f"set @extend_schema(operation_id=...) in camelCase: {wrong}"


def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    counts = Counter(operation["operationId"] for _, operation in operations(schema))

    assert not [name for name, count in counts.items() if count > 1]
