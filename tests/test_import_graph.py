"""The project's import graph: no cycle, config imports no app, models do no IO.

``lint-imports`` (``make lint``, rules in pyproject.toml) enforces the layers; this test
walks the same graph inside the suite, from the source (``ast``), counting imports inside
functions too: a "lazy" import that dodges a cycle at import time is still a cycle in the
design. Imports under ``if TYPE_CHECKING:`` never run and are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.processes import PROJECT_ROOT

APPS = ("accounts", "apikeys", "flags", "files", "insights")
PACKAGES = (*APPS, "config")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a project module, or an outside one as written
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} (line {self.line})"


def project_modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted name -> file, for every module of ``packages`` but their migrations."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for statement in node.orelse:
                yield from _statements(ast.Module(body=[statement], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _statements(node)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """What module ``name`` imports: project modules resolved to the module itself (``from
    accounts import models`` -> ``accounts.models``), others as written."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for statement in _statements(ast.parse(path.read_text(), str(path))):
        if isinstance(statement, ast.Import):
            targets = [alias.name for alias in statement.names]
        else:
            base = statement.module or ""
            if statement.level:
                parent = package.split(".")[
                    : len(package.split(".")) - statement.level + 1
                ]
                base = ".".join([*parent, base] if base else parent)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in statement.names
            ]
        for target in targets:
            resolved = target
            while resolved and resolved not in modules and "." in resolved:
                resolved = resolved.rpartition(".")[0]
            imported = resolved if resolved in modules else target
            found.append(Import(name, imported, statement.lineno))
    return [i for i in dict.fromkeys(found) if i.imported != name]


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, list[Import]]:
    modules = project_modules(root, packages)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, list[Import]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    edges = {
        name: sorted({i.imported for i in imports if i.imported in graph})
        for name, imports in graph.items()
    }
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                lowest[module] = min(lowest[module], lowest[other])
            elif other in stack:
                lowest[module] = min(lowest[module], index[other])
        if lowest[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


GRAPH = import_graph(PROJECT_ROOT, PACKAGES)


def imports_from(prefix: str) -> Iterator[Import]:
    for name, imports in GRAPH.items():
        if name == prefix or name.startswith(f"{prefix}."):
            yield from imports


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def test_there_is_no_import_cycle() -> None:
    assert cycles(GRAPH) == []


def test_config_imports_no_app() -> None:
    # config is plumbing; it names apps only as dotted paths (settings, URLconf includes).
    to_apps = [str(i) for i in imports_from("config") if _within(i.imported, APPS)]

    assert to_apps == []


def test_models_do_no_io() -> None:
    # No mail, no cache, no task, no service: models hold data and constraints.
    io = ("django.core.mail", "django.core.cache", "celery", "accounts.emails")
    layers_above = ("accounts.services", "accounts.tasks", "accounts.session_state")
    offending = [
        str(i)
        for i in imports_from("accounts.models")
        if _within(i.imported, (*io, *layers_above))
    ]

    assert offending == []


def test_the_walk_counts_imports_inside_functions(tmp_path: Path) -> None:
    # Given two modules that import each other, one of them only inside a function, and
    # a third imported only for type checking
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from shop import views\n"
        "def send():\n"
        "    from shop.mail import deliver\n"
    )
    (package / "mail.py").write_text("from . import models\n")
    (package / "views.py").write_text("import shop.models\n")

    graph = import_graph(tmp_path, ["shop"])

    assert cycles(graph) == [["shop.mail", "shop.models"]]
    assert {i.imported for i in graph["shop.models"]} == {"typing", "shop.mail"}
