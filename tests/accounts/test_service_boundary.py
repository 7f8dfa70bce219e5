"""Services know nothing of HTTP: they take ``actor=`` and ``client=``, never a request.

A plain reading of the source with ``ast`` (import-linter checks the layers as a whole);
imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "accounts" / "services"
# The HTTP layer: DRF, Django's request and response module, our helpers over requests.
FORBIDDEN = ("rest_framework", "django.http", "config.requests")


def service_modules() -> list[Path]:
    return sorted(SERVICES.rglob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            # ``from django import http`` imports django.http too
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def is_forbidden(module: str) -> bool:
    return any(
        module == forbidden or module.startswith(f"{forbidden}.")
        for forbidden in FORBIDDEN
    )


def test_there_are_services_to_check() -> None:
    assert len(service_modules()) > 5


@pytest.mark.parametrize("path", service_modules(), ids=lambda path: path.name)
def test_a_service_module_imports_nothing_from_the_http_layer(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))

    assert sorted(filter(is_forbidden, imported_modules(tree))) == []


@pytest.mark.parametrize("path", service_modules(), ids=lambda path: path.name)
def test_no_service_takes_a_request(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    taking_a_request = [
        function.name
        for function in functions
        for argument in (
            *function.args.posonlyargs,
            *function.args.args,
            *function.args.kwonlyargs,
        )
        if argument.arg == "request"
    ]

    assert taking_a_request == []


def test_the_check_sees_a_forbidden_import() -> None:
    tree = ast.parse(
        "from rest_framework.request import Request\n"
        "from django import http\n"
        "def f():\n    import config.requests\n"
    )

    assert {"config.requests", "django.http", "rest_framework.request"} <= set(
        filter(is_forbidden, imported_modules(tree))
    )
