"""The Celery application: a Redis broker when ``REDIS_URL`` is set, inline tasks otherwise.

Start a worker with ``bin/worker`` (``celery -A config worker``); the embedded default needs
none, as ``CELERY_TASK_ALWAYS_EAGER`` runs each task in the process that sends it.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("gatehouse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
