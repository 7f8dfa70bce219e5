"""Reading the process environment into settings (12-factor).

Every setting Gatehouse reads from the environment goes through :class:`Settings`, which
wraps ``environs`` (itself using dj-database-url, dj-email-url) so that a malformed value
stops the process with one readable line instead of a traceback deep inside Django.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import dj_email_url
from dotenv import load_dotenv
from environs import Env, EnvError

# A SECRET_KEY shorter than this, or one of Django's `django-insecure-` keys, is refused.
MINIMUM_SECRET_KEY_LENGTH = 50
# HS256 keys at least as long as the hash (RFC 7518, section 3.2).
MINIMUM_JWT_SIGNING_KEY_BYTES = 32
EMAIL_SCHEMES = {"smtp", "smtps", "submission", "console", "file"}
# Names the env file to read (empty: none); unset, the project's `.env` is read if present.
ENV_FILE_VARIABLE = "GATEHOUSE_ENV_FILE"

T = TypeVar("T")


class ConfigurationError(SystemExit):
    """A setting is missing or malformed; the process cannot start.

    It subclasses ``SystemExit`` on purpose: whichever entry point imports the settings
    (``manage.py``, gunicorn/granian, the Celery worker) prints the message as a single line
    on stderr and exits with status 1, with no traceback to scroll through.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"Gatehouse configuration error: {message}")
        self.message = message


class Settings:
    """Typed accessors over ``os.environ`` that fail with :class:`ConfigurationError`.

    The methods are named after what they return (``env.str``, ``env.int``), so inside the
    class those names are the methods: annotations spell the types ``builtins.str``.
    """

    def __init__(self) -> None:
        self._env = Env()

    def _read(self, read: Callable[[], T]) -> T:
        try:
            return read()
        except EnvError as error:
            raise ConfigurationError(str(error)) from None

    def read_env_file(self, default: Path) -> Path | None:
        """Put the variables of an env file (``NAME=value`` lines, ``#`` comments) into
        the environment; variables already set in the real environment win. The file is
        ``GATEHOUSE_ENV_FILE`` if set (empty: no file, as in the tests), else ``default``
        if it exists (the development ``.env`` that ``make run`` writes). Returns the
        file read, if any."""
        chosen = os.environ.get(ENV_FILE_VARIABLE)
        if chosen is None:
            path = default
            if not path.is_file():
                return None
        elif not chosen.strip():
            return None
        else:
            path = Path(chosen.strip())
            if not path.is_file():
                raise ConfigurationError(
                    f'Environment variable "{ENV_FILE_VARIABLE}" invalid: no file at '
                    f"{path} (leave it empty to read no env file)."
                )
        # Into os.environ (environs would keep them to itself): the database and email
        # helpers below read it too, and so do processes started from this one. No
        # ${...} expansion, as Docker's --env-file: a value is what is written.
        load_dotenv(path, override=False, interpolate=False)
        return path

    def is_set(self, name: builtins.str) -> builtins.bool:
        return bool(os.environ.get(name, "").strip())

    def str(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        return self._read(lambda: self._env.str(name, default)).strip()

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        return self._read(lambda: self._env.bool(name, default))

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        *,
        minimum: builtins.int | None = None,
    ) -> builtins.int:
        value = self._read(lambda: self._env.int(name, default))
        if minimum is not None and value < minimum:
            raise ConfigurationError(
                f'Environment variable "{name}" invalid: at least {minimum}.'
            )
        return value

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        values = self._read(lambda: self._env.list(name, default or []))
        return [value.strip() for value in values if value.strip()]

    def database(
        self, name: builtins.str, default: builtins.str
    ) -> dict[builtins.str, Any]:
        """A Django ``DATABASES`` entry from a URL; only PostgreSQL and SQLite are supported."""
        if self.is_set(name):
            scheme = urlsplit(os.environ[name]).scheme
            if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
                raise ConfigurationError(
                    f'Environment variable "{name}" invalid: use '
                    "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:///ABSOLUTE/PATH"
                    f" (scheme {scheme or 'missing'!r} is not supported)."
                )
        config: dict[builtins.str, Any] = self._read(
            lambda: self._env.dj_db_url(name, default)
        )
        if not config.get("NAME"):
            raise ConfigurationError(
                f'Environment variable "{name}" invalid: the database name is missing.'
            )
        return config

    def email(
        self, name: builtins.str, default: builtins.str
    ) -> dict[builtins.str, Any]:
        """Django email settings from a URL.

        ``smtp://``, ``smtps://`` (implicit TLS), ``submission://`` (STARTTLS), ``console:``,
        ``file:///path``, ``memory:`` come from dj-email-url. ``anymail://ESP`` (``mailgun``,
        ``postmark``, ``amazon_ses``, ``sendgrid`` …) selects django-anymail's backend for that
        provider; its credentials come from ``ANYMAIL_*`` variables (see :meth:`anymail`).
        """
        url = self.str(name, default)
        parts = urlsplit(url)
        if parts.scheme == "anymail":
            provider = parts.netloc or parts.path.strip("/")
            if not provider.replace("_", "").isalnum():
                raise ConfigurationError(
                    f'Environment variable "{name}" invalid: write anymail://PROVIDER, e.g. anymail://mailgun.'
                )
            return {"EMAIL_BACKEND": f"anymail.backends.{provider}.EmailBackend"}
        if parts.scheme == "console":
            # The text part and the headers, not the whole MIME message (config.mail).
            return {"EMAIL_BACKEND": "config.mail.ConsoleEmailBackend"}
        if parts.scheme == "memory":
            return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
        if parts.scheme == "file":
            # file:///var/mail is the absolute /var/mail (RFC 8089); dj-email-url drops
            # the first slash and writes relative to the working directory instead.
            if parts.netloc or not parts.path.startswith("/"):
                raise ConfigurationError(
                    f'Environment variable "{name}" invalid: write file:///ABSOLUTE/PATH.'
                )
            return {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": "/" + unquote(parts.path).lstrip("/"),
            }
        if parts.scheme == "smtps":
            # Implicit TLS (port 465); dj-email-url would map it to STARTTLS instead.
            url = urlunsplit(parts._replace(scheme="smtp", query="ssl=True"))
        try:
            if parts.scheme not in EMAIL_SCHEMES:
                raise ValueError(parts.scheme)
            config = dj_email_url.parse(url)
        except (KeyError, ValueError):
            raise ConfigurationError(
                f'Environment variable "{name}" invalid: use '
                "smtp://USER:PASSWORD@HOST:PORT, console:, file:///PATH or anymail://PROVIDER."
            ) from None
        return {key: value for key, value in config.items() if value not in (None, "")}

    def storage(self, name: builtins.str) -> dict[builtins.str, Any]:
        """The ``STORAGES["default"]`` entry (uploads, avatars) from a URL.

        - unset: the folder ``MEDIA_ROOT``;
        - ``file:///ABSOLUTE/PATH``: that folder;
        - ``s3://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET[/PREFIX]`` with optional query
          ``region=eu-west-1``, ``secure=false`` (plain HTTP, for a server on loopback),
          ``addressing=path|virtual``: any S3-compatible service through django-storages
          (AWS: ``HOST`` ``s3.eu-west-1.amazonaws.com``; MinIO, R2, Ceph, moto...). Without
          ``ACCESS_KEY:SECRET_KEY@`` boto3 finds credentials itself (``AWS_*`` variables,
          an instance role). Percent-encode ``/``, ``@`` and ``:`` inside the keys.

        Objects are private: downloads go through the API, which checks access and
        streams them; nothing is public-read, no URL points at the bucket.
        """
        if not self.is_set(name):
            # No location: FileSystemStorage reads MEDIA_ROOT (``default_root``) itself,
            # and follows it when tests change it.
            return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
        url = os.environ[name]
        parts = urlsplit(url)
        if parts.scheme == "file":
            if parts.netloc or not parts.path.startswith("/"):
                raise ConfigurationError(
                    f'Environment variable "{name}" invalid: write file:///ABSOLUTE/PATH.'
                )
            return {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": Path("/" + unquote(parts.path).lstrip("/"))},
            }
        bucket, _, prefix = unquote(parts.path).strip("/").partition("/")
        if parts.scheme != "s3" or not parts.hostname or not bucket:
            raise ConfigurationError(
                f'Environment variable "{name}" invalid: use file:///ABSOLUTE/PATH or '
                "s3://ACCESS_KEY:SECRET_KEY@HOST:PORT/BUCKET?region=REGION."
            )
        query = dict(
            pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair
        )
        unknown = sorted(set(query) - {"region", "secure", "addressing"})
        secure = query.get("secure", "true").lower()
        addressing = query.get("addressing", "path")
        if (
            unknown
            or secure not in {"true", "false"}
            or addressing
            not in {
                "path",
                "virtual",
            }
        ):
            raise ConfigurationError(
                f'Environment variable "{name}" invalid: the query may hold region=, '
                "secure=true|false and addressing=path|virtual."
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError(
                f'Environment variable "{name}" invalid: the port is not a number.'
            ) from None
        host = parts.hostname + (f":{port}" if port else "")
        options: dict[builtins.str, Any] = {
            "bucket_name": bucket,
            "location": prefix,
            "endpoint_url": f"{'https' if secure == 'true' else 'http'}://{host}",
            "region_name": query.get("region") or None,
            "addressing_style": addressing,
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own policy: private
            "file_overwrite": False,
            "querystring_auth": True,
        }
        if parts.username:
            options["access_key"] = unquote(parts.username)
            options["secret_key"] = unquote(parts.password or "")
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}

    def anymail(self) -> dict[builtins.str, builtins.str]:
        """Each ``ANYMAIL_<NAME>`` variable becomes ``ANYMAIL["<NAME>"]``.

        For example ``ANYMAIL_MAILGUN_API_KEY`` sets ``ANYMAIL["MAILGUN_API_KEY"]``.
        """
        prefix = "ANYMAIL_"
        return {
            key[len(prefix) :]: value
            for key, value in os.environ.items()
            if key.startswith(prefix)
        }

    def secret_key(self, *, debug: builtins.bool) -> builtins.str:
        key = self.str("SECRET_KEY")
        if debug and not key:
            # Only for a developer's machine: sessions and tokens die with each restart.
            return "django-insecure-development-only-" + "x" * 40
        if not key:
            raise ConfigurationError(
                "SECRET_KEY is not set. With DEBUG off Gatehouse needs a real secret key: "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
            )
        if (
            len(key) < MINIMUM_SECRET_KEY_LENGTH
            or key.startswith("django-insecure")
            or len(set(key)) < 5
        ):
            raise ConfigurationError(
                "SECRET_KEY is too weak: use at least "
                f"{MINIMUM_SECRET_KEY_LENGTH} random characters, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
            )
        return key

    def jwt_signing_key(self, default: builtins.str) -> builtins.str:
        """``JWT_SIGNING_KEY``, or ``default`` (the secret key) when unset."""
        key = self.str("JWT_SIGNING_KEY")
        if not key:
            return default
        if len(key.encode()) < MINIMUM_JWT_SIGNING_KEY_BYTES:
            raise ConfigurationError(
                'Environment variable "JWT_SIGNING_KEY" invalid: an HS256 key needs at '
                f"least {MINIMUM_JWT_SIGNING_KEY_BYTES} bytes, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
            )
        return key
