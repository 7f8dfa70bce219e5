# syntax=docker/dockerfile:1
# Gatehouse production image: slim, non-root, multi-stage.
#   docker build -t gatehouse .
#   docker run --env-file .env.production -p 8000:8000 gatehouse
# .env.production (from .env.example, never committed nor copied into the image: see
# .dockerignore) holds SECRET_KEY, DATABASE_URL, REDIS_URL and the rest.
# The default command is bin/start (migrate, then granian); the worker runs bin/worker.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /venv
COPY requirements/base.txt /tmp/base.txt
# Every wheel is pinned and hash-checked: the image gets exactly the locked versions.
RUN /venv/bin/pip install --require-hashes -r /tmp/base.txt

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PATH="/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles \
    PORT=8000
RUN groupadd --system --gid 10001 gatehouse \
    && useradd --system --uid 10001 --gid gatehouse --home-dir /app --shell /usr/sbin/nologin gatehouse \
    && mkdir -p /data \
    && chown gatehouse:gatehouse /data
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=root:root . /app
# collectstatic needs settings, and settings need a key: a throw-away one, used only here.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    python manage.py collectstatic --noinput -v0
USER gatehouse
VOLUME ["/data"]
EXPOSE 8000
# /health/live/ answers whatever the Host header (config.health.HealthProbeMiddleware), so
# the probe of 127.0.0.1 works with a real ALLOWED_HOSTS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/live/\", timeout=4)"]
CMD ["bin/start"]
