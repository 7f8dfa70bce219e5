"""The worker knows every task it can be sent: tasks live beside what they do, not all in
an app's ``tasks.py``, so nothing but this test notices one the worker never imports."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.processes import PROJECT_ROOT, process_environment, run_python

PROJECT_PACKAGES = (
    "accounts",
    "apikeys",
    "flags",
    "files",
    "insights",
    "limits",
    "config",
)

# What the worker does at startup (celery worker -> loader.import_default_modules): run
# autodiscovery of every app's tasks.py and import CELERY_IMPORTS.
REGISTERED_TASKS = """
import json
from config.celery import app
app.loader.import_default_modules()
print(json.dumps(sorted(app.tasks)))
"""


def _task_name(function: ast.FunctionDef, module: str) -> str | None:
    """The Celery name of ``function`` if it is a ``@shared_task``: its ``name=``, else
    Celery's default ``<module>.<function>``."""
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if not (isinstance(target, ast.Name) and target.id == "shared_task"):
            continue
        for keyword in call.keywords if call else ():
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        return f"{module}.{function.name}"
    return None


def defined_tasks() -> set[str]:
    names = set()
    for package in PROJECT_PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
            tree = ast.parse(Path(path).read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    name = _task_name(node, module.removesuffix(".__init__"))
                    if name:
                        names.add(name)
    return names


@pytest.mark.slow  # a fresh interpreter, as the worker starts
def test_the_worker_registers_every_task_defined_and_scheduled() -> None:
    result = run_python(
        "-c",
        REGISTERED_TASKS,
        environment=process_environment(CELERY_TASK_ALWAYS_EAGER="false"),
    )
    assert result.returncode == 0, result.stderr
    registered = set(json.loads(result.stdout.splitlines()[-1]))

    defined = defined_tasks()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    # Names are stable across moves: a message queued before a deploy finds its task.
    assert {"accounts.tasks.send_email", "accounts.tasks.purge_sessions"} <= defined
    assert defined <= registered
    assert scheduled <= registered
