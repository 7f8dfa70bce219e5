"""Every ``code`` an answer can carry is in the catalogue (``config.error_codes``), with the
status it is served with.

Codes come from four places: ``ApplicationError("...")`` raises anywhere in the project
(read from the source with ``ast``), DRF's and simplejwt's exceptions (their default codes,
renamed by ``CODE_ALIASES``), the ``code=`` given to such an exception where it is raised,
and the literal codes of the handlers in ``config/errors.py``.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
import rest_framework_simplejwt.exceptions as simplejwt_exceptions
from rest_framework import exceptions, status

from config.error_codes import ERROR_CODES
from config.errors import CODE_ALIASES

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "config", "apikeys", "flags", "files", "insights")

DRF_EXCEPTIONS = [
    exception
    for module in (exceptions, simplejwt_exceptions)
    for exception in vars(module).values()
    if inspect.isclass(exception) and issubclass(exception, exceptions.APIException)
]
# Raised with ``code=`` these are DRF's; Django's ValidationError codes name field errors,
# which are all answered as ``validation_error``.
DRF_EXCEPTION_NAMES = {
    exception.__name__
    for exception in DRF_EXCEPTIONS
    if not issubclass(exception, exceptions.ValidationError)
}


def source_files() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def parsed() -> Iterator[tuple[Path, ast.Module]]:
    for path in source_files():
        yield path, ast.parse(path.read_text(), filename=str(path))


def called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def code_argument(call: ast.Call, position: int) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next(
        (keyword.value for keyword in call.keywords if keyword.arg == "code"), None
    )


def application_error_codes(tree: ast.Module) -> Iterator[tuple[int, ast.expr | None]]:
    """``ApplicationError(code, ...)`` calls, and ``super().__init__(code, ...)`` in its
    subclasses: (line, the code's expression)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and called_name(node) == "ApplicationError":
            yield node.lineno, code_argument(node, 0)
        if isinstance(node, ast.ClassDef) and any(
            isinstance(base, ast.Name) and base.id == "ApplicationError"
            for base in node.bases
        ):
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and called_name(call) == "__init__"
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Call)
                    and called_name(call.func.value) == "super"
                ):
                    yield call.lineno, code_argument(call, 0)


def literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def raised_application_codes() -> list[tuple[str, str]]:
    found = []
    for path, tree in parsed():
        for line, node in application_error_codes(tree):
            where = f"{path.relative_to(ROOT)}:{line}"
            found.append((where, literal(node) or f"<not a literal at {where}>"))
    return found


def test_the_scan_finds_the_raises() -> None:
    codes = {code for _, code in raised_application_codes()}

    assert len(raised_application_codes()) > 20
    assert {"invalid_credentials", "rate_limited", "not_found"} <= codes


def test_every_application_error_names_a_catalogued_code_literally() -> None:
    unknown = [
        (where, code)
        for where, code in raised_application_codes()
        if code not in ERROR_CODES
    ]

    assert unknown == []


@pytest.mark.parametrize(
    "exception", DRF_EXCEPTIONS, ids=lambda exception: exception.__qualname__
)
def test_drf_exceptions_answer_with_catalogued_codes(exception: type) -> None:
    code = CODE_ALIASES.get(exception.default_code, exception.default_code)
    if issubclass(exception, exceptions.ValidationError):
        code = "validation_error"  # the handler renders these itself

    assert code in ERROR_CODES
    assert ERROR_CODES[code].status == exception.status_code


def test_every_alias_names_a_catalogued_code() -> None:
    assert set(CODE_ALIASES.values()) - set(ERROR_CODES) == set()


def drf_code_argument(call: ast.Call) -> ast.expr | None:
    # (detail, code), but Throttled(wait, detail, code)
    return code_argument(call, 2 if called_name(call) == "Throttled" else 1)


def test_codes_given_to_drf_exceptions_are_catalogued() -> None:
    given = [
        (f"{path.relative_to(ROOT)}:{node.lineno}", literal(drf_code_argument(node)))
        for path, tree in parsed()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and called_name(node) in DRF_EXCEPTION_NAMES
        and drf_code_argument(node) is not None
    ]

    assert given  # accounts/authentication.py gives one
    unknown = [
        (where, code)
        for where, code in given
        if CODE_ALIASES.get(code or "", code) not in ERROR_CODES
    ]
    assert unknown == []


def status_value(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Attribute) and node.attr.startswith("HTTP_"):
        return getattr(status, node.attr)
    return None


def test_the_handlers_literal_codes_are_catalogued_with_their_status() -> None:
    tree = ast.parse((ROOT / "config" / "errors.py").read_text())
    answered = [
        (status_value(node.args[0]), literal(node.args[1]))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and called_name(node) in {"problem_response", "problem_body", "_json_problem"}
        and len(node.args) >= 2
        and literal(node.args[1]) is not None
    ]

    assert len(answered) >= 8
    mismatched = [
        (status_code, code)
        for status_code, code in answered
        if code not in ERROR_CODES or ERROR_CODES[code].status != status_code
    ]
    assert mismatched == []
