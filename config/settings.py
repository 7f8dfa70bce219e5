"""Gatehouse settings: one module, every value from the environment (see README, Configuration).

With nothing set, Gatehouse runs on its embedded default: SQLite under ``DATA_DIR``, an
in-process cache, console email and Celery tasks run inline. ``DATABASE_URL``/``REDIS_URL``
switch it to PostgreSQL and Redis. ``DEBUG`` is off unless set; with it off, a real
``SECRET_KEY`` is required and production-grade security settings apply.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery.schedules import crontab
from corsheaders.defaults import default_headers as cors_default_headers
from cryptography.fernet import Fernet
from django.conf.locale import LANG_INFO

from config.env import ConfigurationError, Settings

env = Settings()

BASE_DIR = Path(__file__).resolve().parent.parent
# The development `.env` (written by `make run`, never committed) or GATEHOUSE_ENV_FILE's;
# the real environment wins over it.
ENV_FILE = env.read_env_file(BASE_DIR / ".env")
DATA_DIR = Path(env.str("DATA_DIR", str(BASE_DIR / "data")))

DEBUG = env.bool("DEBUG", False)
SECRET_KEY = env.secret_key(debug=DEBUG)
# Previous keys, newest first, still accepted while what they signed or sealed ages out
# (sessions, device tokens, email links; TOTP secrets until `manage.py rotate_mfa_keys`).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
SITE_NAME = env.str("SITE_NAME", "Gatehouse")

FRONTEND_URL = env.str("FRONTEND_URL", "http://localhost:3000").rstrip("/")
_frontend = urlsplit(FRONTEND_URL)
if _frontend.scheme not in {"http", "https"} or not _frontend.netloc:
    raise ConfigurationError(
        'Environment variable "FRONTEND_URL" invalid: use an absolute http(s) URL.'
    )
FRONTEND_ORIGIN = f"{_frontend.scheme}://{_frontend.netloc}"

# --- Applications -------------------------------------------------------------

INSTALLED_APPS = [
    "config.admin_apps.GatehouseAdminConfig",  # django.contrib.admin, with MFA
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "django_ratelimit",
    "django_otp",
    "django_otp.plugins.otp_email",
    "guardian",
    "waffle",
    "accounts",
    "apikeys",
    "flags",
    "files",
    "limits",
    "insights",
]

MIDDLEWARE = [
    "config.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # /health/live/ and /health/ready/ answer here, before CommonMiddleware validates
    # the host (SecurityMiddleware reads it only to redirect to HTTPS, probes exempted).
    "config.health.HealthProbeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.timezones.StaffTimezoneMiddleware",  # admin pages in the staff's zone
    # Plans each API request's counting (in its session check's round trip), writes the
    # RateLimit-* headers, counts 429s toward automatic bans.
    "limits.middleware.RateLimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

if env.is_set("DATABASE_URL"):
    DATABASES = {"default": env.database("DATABASE_URL", "")}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "gatehouse.sqlite3",
        }
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock when a transaction
    # starts, so two concurrent writers queue (up to the timeout) instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Persistent connections: closing one per request measured 17x slower on a one-query view.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", 600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DB_CONNECT_TIMEOUT", 5
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL")
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigurationError(
            'Environment variable "REDIS_URL" invalid: use redis://HOST:6379/0.'
        )
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", "gatehouse"),
            "OPTIONS": {
                # Fail fast: a dead Redis must show up as a failed readiness check within a
                # second, not hang every request for the kernel's TCP timeout.
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "gatehouse",
            # Not Django's 300: the login lockout keeps up to 30 counters per account
            # and per client (config.sliding_window), and culling them would forget
            # failures.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
    # django-ratelimit wants a cache shared by every process. The embedded default is one
    # process (runserver or tests), where the in-process cache is exactly that.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Background tasks (Celery) ------------------------------------------------

# Without Redis, an in-process broker that never carries a message (tasks run inline). Its
# host is named: kombu warns "No hostname was supplied" on each connection otherwise.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
# Without a broker, tasks run inline in the process that sends them.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# The worker imports every app's tasks.py; task modules that live elsewhere, beside what
# they do, are listed here (tests/config/test_celery.py checks the worker knows them all).
CELERY_IMPORTS = ["accounts.emails.tasks"]
# Periodic tasks, run by the worker started with WORKER_BEAT=true (bin/worker).
CELERY_BEAT_SCHEDULE = {
    "purge-sessions": {"task": "accounts.tasks.purge_sessions", "schedule": 3600},
    # Issue 17: address bans are enforced from the cache; a cache that lost them (a
    # restart, an eviction) gets them back from the database within five minutes.
    "restore-address-bans": {
        "task": "limits.tasks.restore_address_bans",
        "schedule": 300,
    },
    # The admin dashboard's figures (insights.constants.REFRESH_INTERVAL): today's and
    # yesterday's every ten minutes, nightly the 60 days the cards show and compare.
    "refresh-daily-stats": {
        "task": "insights.tasks.refresh_daily_stats",
        "schedule": 600,
        "kwargs": {"days": 2},
    },
    "refresh-daily-stats-nightly": {
        "task": "insights.tasks.refresh_daily_stats",
        "schedule": crontab(hour=0, minute=30),
        "kwargs": {"days": 60},
    },
}

# --- Email --------------------------------------------------------------------

_email = env.email("EMAIL_URL", "console:")
EMAIL_BACKEND = _email.get(
    "EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH")
EMAIL_TIMEOUT = 10
ANYMAIL = env.anymail()
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <noreply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- Authentication -----------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    # Object permissions (a rule about one object: a profile hidden by a block, later a
    # shared file). Role rights stay plain model permissions on the role groups.
    "guardian.backends.ObjectPermissionBackend",
]
# guardian's anonymous-user row is for anonymous object permissions, which we do not grant;
# its default name would not even pass our username rule.
ANONYMOUS_USER_NAME = None

# Argon2id at OWASP's parameters first; PBKDF2 and bcrypt verify imported hashes, which are
# re-hashed with Argon2id on the next successful login.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
]

# NIST SP 800-63B-4 style: length, not composition rules. 15 is its minimum for a password
# that is the only factor.
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", 15)
PASSWORD_MAX_LENGTH = env.int("PASSWORD_MAX_LENGTH", 128)
PASSWORD_MIN_STRENGTH = env.int("PASSWORD_MIN_STRENGTH", 3)  # zxcvbn score, 0 to 4
PASSWORD_HISTORY_SIZE = env.int("PASSWORD_HISTORY_SIZE", 5)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "accounts.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": PASSWORD_MAX_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "email", "display_name")},
    },
    {
        "NAME": "accounts.passwords.StrengthValidator",
        "OPTIONS": {"min_score": PASSWORD_MIN_STRENGTH},
    },
    {
        "NAME": "accounts.passwords.PasswordHistoryValidator",
        "OPTIONS": {"history_size": PASSWORD_HISTORY_SIZE},
    },
]
PASSWORD_RESET_TIMEOUT = env.int(
    "PASSWORD_RESET_TIMEOUT", 3600
)  # seconds a reset link works
REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", True)
# Display names: free text (true), or only the username with underscores as spaces in any
# capitalisation (false), for communities that want names to match handles.
DISPLAY_NAME_FREE = env.bool("DISPLAY_NAME_FREE", True)
# Phone numbers without a +country prefix are read as numbers of this region (e.g. "FR");
# empty: a number must be written in international form.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", "") or None
# Where security emails tell people to report a change they did not make.
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", "")

# Brute force: after LOGIN_LOCKOUT_ATTEMPTS failures for one account (or one unknown login
# name) within a sliding LOGIN_LOCKOUT_MINUTES, every attempt answers 429 for
# LOGIN_LOCKOUT_MINUTES from the failure that locked it; a login with a device token
# (accounts.devices) is counted on that device's own counter instead.
LOGIN_LOCKOUT_ATTEMPTS = env.int("LOGIN_LOCKOUT_ATTEMPTS", 10)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", 15)
DEVICE_TOKEN_DAYS = env.int("DEVICE_TOKEN_DAYS", 90)  # how long a device token is good
# Named rate limits (django-ratelimit rates: N/s, N/m, N/h, N/d, or N/15m), one table.
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", True)
RATELIMIT_IP_META_KEY = "config.client_ip.client_ip"
# Per-IP limits count an IPv6 client by its /64 (one host usually holds a whole /64 and can
# rotate through it), an IPv4 client by its address. django-ratelimit's defaults, pinned;
# sessions and the audit log keep the full address (config.client_ip).
RATELIMIT_IPV6_MASK = 64
RATELIMIT_IPV4_MASK = 32
RATE_LIMITS = {
    "login_failures_per_account": f"{LOGIN_LOCKOUT_ATTEMPTS}/{LOGIN_LOCKOUT_MINUTES}m",
    "login_failures_per_ip": env.str("RATE_LIMIT_LOGIN_FAILURES_PER_IP", "50/15m"),
    # Wrong codes (and spent or forged mfa_tokens) at login/mfa/, per client.
    "login_mfa_failures_per_ip": env.str(
        "RATE_LIMIT_LOGIN_MFA_FAILURES_PER_IP", "50/15m"
    ),
    # Right passwords too: sessions (or second-factor challenges) opened per account and
    # per client.
    "logins_per_account": env.str("RATE_LIMIT_LOGINS_PER_ACCOUNT", "20/m"),
    "logins_per_ip": env.str("RATE_LIMIT_LOGINS_PER_IP", "100/m"),
    "register_per_ip": env.str("RATE_LIMIT_REGISTER_PER_IP", "20/h"),
    "email_per_address": env.str("RATE_LIMIT_EMAIL_PER_ADDRESS", "5/h"),
    "email_per_ip": env.str("RATE_LIMIT_EMAIL_PER_IP", "20/h"),
    "refresh_per_ip": env.str("RATE_LIMIT_REFRESH_PER_IP", "600/m"),
    "password_change_per_user": env.str("RATE_LIMIT_PASSWORD_CHANGE_PER_USER", "10/h"),
    "email_change_per_user": env.str("RATE_LIMIT_EMAIL_CHANGE_PER_USER", "5/h"),
    "account_deletion_per_user": env.str(
        "RATE_LIMIT_ACCOUNT_DELETION_PER_USER", "10/h"
    ),
    "mfa_change_per_user": env.str("RATE_LIMIT_MFA_CHANGE_PER_USER", "20/h"),
    # Wrong current passwords per account, every confirmed change together (a stolen
    # access token must not become a way to guess the password).
    "password_confirmation_failures_per_user": env.str(
        "RATE_LIMIT_PASSWORD_CONFIRMATION_FAILURES_PER_USER", "10/h"
    ),
    # Requests with an API key that is malformed, unknown, revoked or has a wrong secret.
    "api_key_failures_per_ip": env.str("RATE_LIMIT_API_KEY_FAILURES_PER_IP", "30/m"),
    # Audit events for a wrong secret presented with a real key's prefix, per key.
    "api_key_rejections_audited_per_key": env.str(
        "RATE_LIMIT_API_KEY_REJECTIONS_AUDITED_PER_KEY", "10/h"
    ),
    # The export is the heaviest read there is.
    "export_per_user": env.str("RATE_LIMIT_EXPORT_PER_USER", "10/h"),
}
# Clients' addresses: the number of reverse proxies in front that append to
# X-Forwarded-For. 0 trusts no header and uses the socket's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0)
# One function decides the address (config.client_ip.client_ip): the limiter's, the
# sessions', the audit log's, and allauth's (our adapter's get_client_ip). allauth's own
# setting is kept in step for any of its code that would read it.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Every API route counts in an endpoint group (limits.policy): its view's
# rate_limit_group, "default" unless it names another. Each group limits each tier of
# caller: "anonymous" (per client address), a role (per user, at the caller's highest
# role; an API key counts per key, at its owner's role, and may carry its own hourly and
# daily quota), "service" (a global API key). Rates as above, comma-separated; a tier
# missing or "" is not limited there (staff, by default).
RATE_LIMIT_GROUPS = {
    "default": {
        "anonymous": env.str("RATE_LIMIT_DEFAULT_ANONYMOUS", "120/m,2000/h"),
        "user": env.str("RATE_LIMIT_DEFAULT_USER", "100/m,1000/h,10000/d"),
        "tester": env.str("RATE_LIMIT_DEFAULT_TESTER", "300/m,5000/h,50000/d"),
        "service": env.str("RATE_LIMIT_DEFAULT_SERVICE", "600/m,20000/h"),
    },
    # Sign-in, sign-up, resets, verification, second factors, password change, logout.
    "auth": {
        "anonymous": env.str("RATE_LIMIT_AUTH_ANONYMOUS", "100/m,2000/h"),
        "user": env.str("RATE_LIMIT_AUTH_USER", "30/m,300/h"),
        "tester": env.str("RATE_LIMIT_AUTH_TESTER", "60/m,600/h"),
    },
    # Refreshing access tokens: anonymous (the refresh token is the credential), and
    # many users may share one address.
    "refresh": {"anonymous": env.str("RATE_LIMIT_REFRESH_ANONYMOUS", "600/m")},
    # Files and avatars stored.
    "uploads": {
        "user": env.str("RATE_LIMIT_UPLOADS_USER", "20/m,200/h,1000/d"),
        "tester": env.str("RATE_LIMIT_UPLOADS_TESTER", "60/m,600/h,3000/d"),
        "service": env.str("RATE_LIMIT_UPLOADS_SERVICE", "60/m,2000/h"),
    },
}
# {route: group, or None to exempt it}, routes as Django writes them ("api/v1/files/").
RATE_LIMIT_ROUTE_GROUPS: dict[str, str | None] = {}
# Routes ops exempt from every group's limits (named limits still apply).
RATE_LIMIT_EXEMPT = env.list("RATE_LIMIT_EXEMPT", [])

# Automatic bans: a caller answered 429 AUTO_BAN_THRESHOLD times within
# AUTO_BAN_WINDOW_MINUTES is banned (an account; an address when anonymous) for
# AUTO_BAN_MINUTES, times AUTO_BAN_ESCALATION for each automatic ban it had in the last
# AUTO_BAN_MEMORY_DAYS, at most AUTO_BAN_MAX_MINUTES. Staff are never banned this way.
AUTO_BAN_ENABLED = env.bool("AUTO_BAN_ENABLED", True)
AUTO_BAN_THRESHOLD = env.int("AUTO_BAN_THRESHOLD", 50)
AUTO_BAN_WINDOW_MINUTES = env.int("AUTO_BAN_WINDOW_MINUTES", 10)
AUTO_BAN_MINUTES = env.int("AUTO_BAN_MINUTES", 15)
AUTO_BAN_ESCALATION = env.int("AUTO_BAN_ESCALATION", 4)
AUTO_BAN_MAX_MINUTES = env.int("AUTO_BAN_MAX_MINUTES", 7 * 24 * 60)
AUTO_BAN_MEMORY_DAYS = env.int("AUTO_BAN_MEMORY_DAYS", 30)

# django-allauth owns email addresses, their verification and reset mail.
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_ADAPTER = "accounts.emails.adapter.AccountAdapter"
# A confirmed new address replaces the old one (which is told of the change).
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = env.int("EMAIL_VERIFICATION_EXPIRE_DAYS", 3)
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # a reset for an unknown address sends nothing
# Where links in emails go: FRONTEND_URL + path + ?key= / ?token=.
FRONTEND_EMAIL_VERIFICATION_PATH = env.str(
    "FRONTEND_EMAIL_VERIFICATION_PATH", "/verify-email"
)
FRONTEND_PASSWORD_RESET_PATH = env.str(
    "FRONTEND_PASSWORD_RESET_PATH", "/reset-password"
)
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", "optional")
if ACCOUNT_EMAIL_VERIFICATION not in {"mandatory", "optional", "none"}:
    raise ConfigurationError(
        'Environment variable "ACCOUNT_EMAIL_VERIFICATION" invalid: '
        "use mandatory, optional or none."
    )

# --- Two-factor authentication (django-otp) -------------------------------------------

# Fernet keys (newest first) that encrypt TOTP secrets; empty derives one from SECRET_KEY.
# Rotate: put a new key first, run `manage.py rotate_mfa_keys`, then drop the old key.
MFA_ENCRYPTION_KEYS = env.list("MFA_ENCRYPTION_KEYS", [])
for _key in MFA_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError:
        raise ConfigurationError(
            'Environment variable "MFA_ENCRYPTION_KEYS" invalid: each key must be a Fernet '
            "key (`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        ) from None
# Emailed codes are the weaker factor (NIST 800-63B and OWASP ASVS do not count email as an
# authenticator at their higher levels): offered because users ask for it.
MFA_EMAIL_ENABLED = env.bool("MFA_EMAIL_ENABLED", True)
MFA_EMAIL_CODE_LENGTH = env.int("MFA_EMAIL_CODE_LENGTH", 6)
MFA_EMAIL_CODE_VALIDITY = env.int("MFA_EMAIL_CODE_VALIDITY", 600)  # seconds
# Seconds before another code may be emailed to the same account (django-otp's cooldown).
MFA_EMAIL_RESEND_SECONDS = env.int("MFA_EMAIL_RESEND_SECONDS", 60)
MFA_TOTP_STEP = env.int("MFA_TOTP_STEP", 30)  # seconds per authenticator code
MFA_TOKEN_LIFETIME = env.int(
    "MFA_TOKEN_LIFETIME", 300
)  # seconds to finish a 2-step login
MFA_TOKEN_MAX_ATTEMPTS = env.int("MFA_TOKEN_MAX_ATTEMPTS", 5)
MFA_RECOVERY_CODES = 10
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", not DEBUG)
# Re-authentication: turning an authenticator app on needs the password again unless the
# session signed in this many seconds ago or less (its auth_time).
REAUTH_WINDOW_SECONDS = env.int("REAUTH_WINDOW_SECONDS", 300)
OTP_TOTP_ISSUER = SITE_NAME
OTP_EMAIL_TOKEN_VALIDITY = MFA_EMAIL_CODE_VALIDITY
OTP_EMAIL_COOLDOWN_DURATION = MFA_EMAIL_RESEND_SECONDS

# --- API ----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionTokenAuthentication",
        "apikeys.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF runs these after authentication and permissions, before the handler: the
    # feature flag gate of every API route (flags.gates), then the rate limits of its
    # endpoint group (limits.throttles). No view sets throttle_classes.
    "DEFAULT_THROTTLE_CLASSES": [
        "flags.gates.EndpointFlagGate",
        # The endpoint groups' limits: after the gate, so a route switched off answers
        # as an unknown one, uncounted.
        "limits.throttles.RateLimitThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "config.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT: dict[str, Any] = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_ACCESS_TOKEN_LIFETIME", 300)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_REFRESH_TOKEN_LIFETIME", 14 * 24 * 3600)
    ),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.jwt_signing_key(SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
}
# Previous signing keys (newest first) whose tokens are still accepted until they expire
# (accounts.tokens): by default SECRET_KEY_FALLBACKS while JWT_SIGNING_KEY is unset.
JWT_SIGNING_KEY_FALLBACKS = env.list(
    "JWT_SIGNING_KEY_FALLBACKS",
    [] if env.is_set("JWT_SIGNING_KEY") else SECRET_KEY_FALLBACKS,
)
# Seconds a request trusts the cache's word that a session is live and what its user
# looks like (accounts.session_state); revocation tombstones outlive every access token.
SESSION_STATE_CACHE_SECONDS = env.int("SESSION_STATE_CACHE_SECONDS", 60, minimum=1)
# Seconds a request trusts the cache's word on an API key (apikeys.state); revocation
# writes a tombstone, so this bounds only a lost invalidation. Unknown prefixes are
# remembered for less.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", 300, minimum=1)
API_KEY_UNKNOWN_CACHE_SECONDS = env.int("API_KEY_UNKNOWN_CACHE_SECONDS", 60, minimum=1)
# Live sessions (logins) per account; a new login ends the oldest beyond it. 0: no cap.
MAX_SESSIONS_PER_USER = env.int("MAX_SESSIONS_PER_USER", 10, minimum=0)

# --- Feature flags (flags/, on django-waffle) ---------------------------------------
# Waffle's flag model, extended (flags.models.Flag): its rules are evaluated by
# flags.evaluation from one cached rule set (no per-flag cache reads), stable per user.
WAFFLE_FLAG_MODEL = "flags.Flag"
# A flag nobody created is off (waffle's default); endpoint flags are the exception:
# a route whose flag is missing is on (flags.endpoints).
WAFFLE_FLAG_DEFAULT = False
WAFFLE_CREATE_MISSING_FLAGS = False
# The status a switched-off endpoint answers: 404 (the route seems not to exist) or 403.
FLAGS_DISABLED_ENDPOINT_STATUS = env.int("FLAGS_DISABLED_ENDPOINT_STATUS", 404)
if FLAGS_DISABLED_ENDPOINT_STATUS not in (403, 404):
    raise ConfigurationError(
        'Environment variable "FLAGS_DISABLED_ENDPOINT_STATUS" invalid: use 404 or 403.'
    )
# How old (seconds) the version of the flag rules a process goes by may be: a change
# reaches every worker within it (and a request's own cache round trip).
FLAGS_REFRESH_SECONDS = 0.5

SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} API",
    "DESCRIPTION": (
        "Accounts, login, two-factor authentication, sessions, roles, bans, "
        "API keys and rate-limited sign-in. "
        "Every error is an RFC 9457 problem-details document with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Every operation's tag is described here (tests/config/test_schema_quality.py).
    "TAGS": [
        {
            "name": "auth",
            "description": (
                "Sign-up, email verification, login (with a second factor when the "
                "account has one), tokens, sessions, passwords and two-factor setup. "
                "The sign-in operations are public and rate limited."
            ),
        },
        {
            "name": "users",
            "description": (
                "The caller's own profile, email, data export and security events; "
                "other users' public profiles; blocking."
            ),
        },
        {
            "name": "staff",
            "description": (
                "Staff actions on accounts: the user list, profile changes, "
                "deactivation, erasure, bans and roles. Staff need a session signed in "
                "with a second factor (`403 mfa_setup_required` otherwise)."
            ),
        },
        {
            "name": "api-keys",
            "description": (
                "The caller's API keys (`gth_…`): made here with a bearer token and "
                "sent as `Authorization: Api-Key <key>` or `X-API-Key: <key>`. Each "
                "operation that takes a key lists the API-key security schemes; a key "
                "without the scope it needs is refused `403 insufficient_scope`. Keys "
                "cannot change credentials, sessions or keys."
            ),
        },
        {
            "name": "flags",
            "description": (
                "Feature flags: every flag evaluated for the caller (anyone), and for "
                "staff (moderator and up, signed in with a second factor) each flag's "
                "rules and their changes. Every `/api/v1/` route has a flag of its "
                "own (`api:<path>`, e.g. `api:users/me/`): switched off for a caller, "
                "the route answers as an unknown one (`404 not_found`; `403 "
                "permission_denied` where the operator set "
                "`FLAGS_DISABLED_ENDPOINT_STATUS=403`), after the caller's own "
                "authentication and permission checks."
            ),
        },
        {
            "name": "files",
            "description": (
                "A user's files: uploads (`multipart/form-data`, the type judged by "
                "the content; limits in `GET config/`), the caller's own files and "
                "those shared with them, downloads, and sharing with another user "
                "(`view`, or `change`: also edit the description). A file the caller "
                "may not see is `404 not_found`, as one that does not exist. API "
                "keys need `files:read` or `files:write`."
            ),
        },
        {
            "name": "operations",
            "description": (
                "Health probes for load balancers and orchestrators, and the public "
                "configuration a frontend renders its forms from."
            ),
        },
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "MfaMethodEnum": "accounts.constants.MfaMethod",
        "AuditKindEnum": "accounts.constants.AuditKind",
        "ApiKeyScopeEnum": "apikeys.scopes.SCOPE_CHOICES",
        "ErrorCodeEnum": "config.openapi.ERROR_CODE_CHOICES",
        "FileSharePermissionEnum": "files.constants.SharePermission",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.inline_constants",
        "config.openapi.add_field_errors_component",
        "config.openapi.split_security_alternatives",
    ],
    "SWAGGER_UI_SETTINGS": {
        "persistAuthorization": True,
        "displayRequestDuration": True,
    },
}
# The schema and its docs pages are public by default; set to false to show them to staff only.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", True)
# Mounts /bench/reference/, a bare Django JSON view that bench/ compares the API against.
BENCHMARK_REFERENCE_VIEW = env.bool("BENCHMARK_REFERENCE_VIEW", False)

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", [FRONTEND_ORIGIN])
# A frontend may send its own X-Request-ID to correlate its logs with ours.
CORS_ALLOW_HEADERS = (*cors_default_headers, "x-request-id")
CORS_EXPOSE_HEADERS = [
    "Content-Disposition",  # the export's file name
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

# --- Security -----------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
# The admin is the only user of Django's sessions (the API uses tokens): a workday, not
# Django's two weeks.
ADMIN_SESSION_HOURS = env.int("ADMIN_SESSION_HOURS", 8)
if ADMIN_SESSION_HOURS < 1:
    raise ConfigurationError(
        'Environment variable "ADMIN_SESSION_HOURS" invalid: at least 1 hour.'
    )
SESSION_COOKIE_AGE = ADMIN_SESSION_HOURS * 3600
if env.bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips the client's copy.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)
    # Health checks come from the orchestrator over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]

# --- Internationalisation -----------------------------------------------------

LANGUAGE_CODE = "en"
_language_codes = env.list("LANGUAGES", ["en"])
_unknown_languages = [code for code in _language_codes if code not in LANG_INFO]
if _unknown_languages:
    raise ConfigurationError(
        f'Environment variable "LANGUAGES" invalid: unknown codes {_unknown_languages}.'
    )
LANGUAGES = [(code, LANG_INFO[code]["name"]) for code in _language_codes]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"  # never served: uploads go out through the API's access checks
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    # Uploads and avatars (files/): MEDIA_ROOT, or STORAGE_URL (file:///PATH, s3://...).
    "default": env.storage("STORAGE_URL"),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads (files/): size per file, checked while the body streams in (a bigger upload is
# cut off with 413 file_too_large, never read whole); storage per user; the types allowed,
# by the content's own signature (files.sniffing), never by name or declared type.
FILE_MAX_BYTES = env.int("FILE_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
FILE_QUOTA_BYTES = env.int("FILE_QUOTA_BYTES", 100 * 1024 * 1024, minimum=0)
FILE_ALLOWED_TYPES = env.list(
    "FILE_ALLOWED_TYPES",
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
    ],
)
# Avatars: the upload's size, and the most pixels Pillow may decode (a decompression
# bomb is refused before it is decoded), and the stored square's side.
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", 40_000_000, minimum=1)
AVATAR_SIZE = 512
# Request bodies: uploads spill to a temporary file past this many bytes (never held whole
# in memory); Django's own limit on non-file form data stays at its 2.5 MB default.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# --- Logging ------------------------------------------------------------------

LOG_FORMAT = env.str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ConfigurationError(
        'Environment variable "LOG_FORMAT" invalid: use text or json.'
    )
LOG_LEVEL = env.str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.middleware.RequestIdFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our access log replaces these two; keeping them would log each request twice.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        # Inline tasks (the embedded default) run within a request, whose access log line
        # covers them: no "Task ... succeeded" line per email. Failures still log.
        "celery.app.trace": {
            "level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else LOG_LEVEL
        },
    },
}
