"""ASGI entry point, kept for tooling. The API is synchronous and is served over WSGI: sync
Django under an ASGI server measured about 4x slower here (see README, Benchmark)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
